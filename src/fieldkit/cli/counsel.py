"""Lawyer commands: counsel (keys and enrolment), share (case packages), package (import, list,
review)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from fieldkit.cli.common import StderrProgress, emit, open_vault
from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.i18n import N_, _, ngettext
from fieldkit.services import counsel as counsel_service
from fieldkit.services.package_receive import PackageImportResult, import_package
from fieldkit.services.package_review import list_received, review
from fieldkit.services.package_share import share_case

INTEGRITY_WORDS = {
    "ok": N_("intact"),
    "tampered": N_("ALTERED"),
    "missing": N_("MISSING"),
}

KIND_WORDS = {
    "record": N_("record"),
    "evidence": N_("evidence item"),
    "field": N_("field"),
}
STATUS_WORDS = {"active": N_("active"), "revoked": N_("revoked")}


def _kind(kind: str) -> str:
    return _(KIND_WORDS.get(kind, kind))


def register(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    counsel = subparsers.add_parser(
        "counsel", parents=parents, help=_("lawyers: their keys and their enrolment")
    )
    sub = counsel.add_subparsers(dest="counsel_command", metavar="ACTION", required=True)
    enrol = sub.add_parser(
        "enrol",
        parents=parents,
        help=_("lawyer's profile: keep the organisation card and write the lawyer's key file"),
    )
    enrol.add_argument(
        "card", type=Path, metavar="ORG_CARD", help=_("the organisation card (org.pub)")
    )
    enrol.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="LAWYER_PUB",
        help=_("where to write the lawyer's key file, for the coordinator"),
    )
    enrol.set_defaults(handler=cmd_counsel_enrol)
    ident = sub.add_parser(
        "export-identity",
        parents=parents,
        help=_("lawyer's profile: write the key packages are encrypted to, in age format"),
    )
    ident.add_argument("--out", type=Path, required=True, metavar="FILE")
    ident.set_defaults(handler=cmd_counsel_export_identity)
    org_key = sub.add_parser(
        "org-key",
        parents=parents,
        help=_("lawyer's profile: write the organisation's signing key in minisign format"),
    )
    org_key.add_argument("--out", type=Path, required=True, metavar="FILE")
    org_key.set_defaults(handler=cmd_counsel_org_key)
    add = sub.add_parser("add", parents=parents, help=_("coordinator: enrol a lawyer's key file"))
    add.add_argument(
        "key", type=Path, metavar="LAWYER_PUB", help=_("the file written by 'counsel enrol'")
    )
    add.add_argument("--label", required=True, help=_("a name for the lawyer, e.g. L-01"))
    add.set_defaults(handler=cmd_counsel_add)
    lst = sub.add_parser("list", parents=parents, help=_("coordinator: the enrolled lawyers"))
    lst.set_defaults(handler=cmd_counsel_list)
    revoke = sub.add_parser(
        "revoke", parents=parents, help=_("coordinator: send no further package to a lawyer")
    )
    revoke.add_argument("counsel", metavar="LAWYER", help=_("the lawyer's label, id or key id"))
    revoke.set_defaults(handler=cmd_counsel_revoke)

    share = subparsers.add_parser(
        "share", parents=parents, help=_("write a case package for an enrolled lawyer")
    )
    share_sub = share.add_subparsers(dest="share_command", metavar="WHAT", required=True)
    case = share_sub.add_parser(
        "case", parents=parents, help=_("a case, as the disclosure policy allows it for counsel")
    )
    case.add_argument("case_id", metavar="CASE_ID")
    case.add_argument(
        "--to", required=True, metavar="LAWYER", help=_("the lawyer's label, id or key id")
    )
    case.add_argument(
        "--out", type=Path, required=True, metavar="DIR", help=_("the folder to write it into")
    )
    case.set_defaults(handler=cmd_share_case)

    package = subparsers.add_parser(
        "package", parents=parents, help=_("lawyer's profile: case packages received")
    )
    package_sub = package.add_subparsers(dest="package_command", metavar="ACTION", required=True)
    imp = package_sub.add_parser(
        "import", parents=parents, help=_("check and import a case package")
    )
    imp.add_argument("file", type=Path, metavar="PACKAGE")
    imp.set_defaults(handler=cmd_package_import)
    plist = package_sub.add_parser("list", parents=parents, help=_("the cases received"))
    plist.set_defaults(handler=cmd_package_list)
    rev = package_sub.add_parser(
        "review", parents=parents, help=_("check every item of a received case")
    )
    rev.add_argument("case_id", metavar="CASE_ID")
    rev.set_defaults(handler=cmd_package_review)


def cmd_counsel_enrol(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        result = counsel_service.enrol_counsel(vault, args.card, args.out)
    emit(
        args,
        {"ok": True, **result.__dict__, "key_file": str(args.out)},
        [
            _("Enrolled with {org}. The lawyer's key file was written to {path}.").format(
                org=result.org_name, path=args.out
            ),
            _("Comparison code (read it aloud with the coordinator): {code}").format(
                code=result.code
            ),
        ],
    )
    return 0


def cmd_counsel_export_identity(args: argparse.Namespace) -> int:
    if not getattr(args, "yes", False):
        raise FieldkitError(ErrorCode.SECRET_CONFIRMATION_REQUIRED)
    with open_vault(args) as vault:
        recipient = counsel_service.export_identity(vault, args.out)
    emit(
        args,
        {"ok": True, "path": str(args.out), "recipient": recipient},
        [
            _("Wrote the key your case packages are encrypted to to {path}.").format(path=args.out),
            _("Anyone with this file can read your case packages: keep it offline."),
        ],
    )
    return 0


def cmd_counsel_org_key(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        counsel_service.write_org_signing_key(vault, args.out)
    emit(
        args,
        {"ok": True, "path": str(args.out)},
        [_("Wrote the organisation's signing key to {path}.").format(path=args.out)],
    )
    return 0


def _counsel_lines(info: counsel_service.CounselInfo) -> list[str]:
    return [
        _("Lawyer {label} ({id}), {status}.").format(
            label=info.label,
            id=info.counsel_id,
            status=_(STATUS_WORDS.get(info.status, info.status)),
        ),
        _("Comparison code: {code}").format(code=info.code),
    ]


def cmd_counsel_add(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        info = counsel_service.add_counsel(vault, args.key, args.label)
    emit(
        args,
        {"ok": True, **info.to_dict()},
        [
            _("Enrolled lawyer {label} ({id}).").format(label=info.label, id=info.counsel_id),
            _("Comparison code (must match the one on the lawyer's screen): {code}").format(
                code=info.code
            ),
        ],
    )
    return 0


def cmd_counsel_list(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        infos = counsel_service.list_counsel(vault)
    lines: list[str] = []
    for info in infos:
        lines.extend(_counsel_lines(info))
    emit(
        args,
        {"ok": True, "counsel": [i.to_dict() for i in infos]},
        lines or [_("No lawyer is enrolled.")],
    )
    return 0


def cmd_counsel_revoke(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        info = counsel_service.revoke_counsel(vault, args.counsel)
    emit(args, {"ok": True, **info.to_dict()}, _counsel_lines(info))
    return 0


def cmd_share_case(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        result = share_case(
            vault, args.case_id, args.to, args.out, progress=StderrProgress(_("writing"))
        )
    lines = [
        _("Wrote package {seq} of case {case} for {label} to {path}.").format(
            seq=result.seq, case=result.case_id, label=result.counsel_label, path=result.path
        ),
        _("Records: {n}; evidence items: {m}.").format(n=result.records, m=result.evidence),
    ]
    if result.withheld:
        lines.append(
            ngettext(
                "Withheld by the disclosure policy ({n} entry):",
                "Withheld by the disclosure policy ({n} entries):",
                len(result.withheld),
            ).format(n=len(result.withheld))
        )
        lines.extend(
            f"  {_kind(w.kind)} {w.id}{'.' + w.field if w.field else ''}: {_(w.explanation)}"
            for w in result.withheld
        )
    emit(args, {"ok": True, **result.to_dict()}, lines)
    return 0


def _import_lines(result: PackageImportResult) -> list[str]:
    if result.status == "already_imported":
        return [
            _("{path}: package {seq} of case {case} is already here; nothing changed.").format(
                path=result.path, seq=result.seq, case=result.case_id
            )
        ]
    lines = [
        _("Imported package {seq} of case {case} (records: {n}; evidence items: {m}).").format(
            seq=result.seq, case=result.case_id, n=result.records, m=result.evidence
        )
    ]
    if result.superseded:
        lines.append(_("It replaces the package imported before."))
    for item in result.added:
        lines.append(_("  added: {kind} {id}").format(kind=_kind(item.kind), id=item.id))
    for item in result.updated:
        lines.append(_("  changed: {kind} {id}").format(kind=_kind(item.kind), id=item.id))
    for item in result.removed:
        reason = _(item.explanation) if item.explanation else _("no longer in the package")
        lines.append(
            _("  REMOVED from this profile: {kind} {id} ({reason})").format(
                kind=_kind(item.kind), id=item.id, reason=reason
            )
        )
    if result.withheld:
        lines.append(
            ngettext(
                "The organisation withheld {n} entry; 'package review' lists it.",
                "The organisation withheld {n} entries; 'package review' lists them.",
                len(result.withheld),
            ).format(n=len(result.withheld))
        )
    return lines


def cmd_package_import(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        result = import_package(vault, args.file, progress=StderrProgress(_("verifying")))
    emit(args, {"ok": True, **result.to_dict()}, _import_lines(result))
    return 0


def cmd_package_list(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        cases = list_received(vault)
    lines = [
        _("{case}  {title}  (package {seq}; records: {n}; evidence items: {m})").format(
            case=c.case_id, title=c.title, seq=c.seq, n=c.records, m=c.evidence
        )
        for c in cases
    ]
    emit(
        args,
        {"ok": True, "cases": [c.__dict__ for c in cases]},
        lines or [_("No case package has been imported.")],
    )
    return 0


def cmd_package_review(args: argparse.Namespace) -> int:
    from fieldkit.services.package_review import case_data

    with open_vault(args) as vault:
        results = review(vault, args.case_id, progress=StderrProgress(_("verifying")))
        _data, withheld = case_data(vault, args.case_id)
    bad = [r for r in results if r.status != "ok"]
    lines = [
        f"{_(INTEGRITY_WORDS[r.status])}  {_kind(r.kind)} {r.id}  {r.title}".rstrip()
        for r in results
    ]
    lines.append(
        _("Every item is intact.")
        if not bad
        else ngettext("{n} item is NOT intact.", "{n} items are NOT intact.", len(bad)).format(
            n=len(bad)
        )
    )
    lines.extend(
        _("Withheld: {kind} {id}: {reason}").format(
            kind=_kind(w.kind),
            id=w.id + (f".{w.field}" if w.field else ""),
            reason=_(w.explanation),
        )
        for w in withheld
    )
    emit(
        args,
        {
            "ok": not bad,
            "items": [r.to_json() for r in results],
            "withheld": [w.to_json() for w in withheld],
        },
        lines,
    )
    return 0 if not bad else 1
