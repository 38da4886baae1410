"""Evidence commands: add, list, show, verify, export, custody, purge."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fieldkit import i18n
from fieldkit.cli.common import StderrProgress, confirm_destructive, emit, open_vault
from fieldkit.domain.disclosure import Audience, parse_audience
from fieldkit.domain.errors import FieldkitError
from fieldkit.domain.evidence import (
    CUSTODY_ACTION_LABELS,
    VERIFICATION_STATUS_LABELS,
    CustodyAction,
    CustodyEvent,
    EvidenceInput,
    EvidenceItem,
    EvidenceLinks,
    EvidenceUpdate,
    ItemState,
    ItemType,
    ObtainedHow,
    PreviewStatus,
    custody_detail_label,
    custody_detail_value,
    custody_purpose_text,
)
from fieldkit.i18n import _, ngettext
from fieldkit.services.evidence import EvidenceService


def register(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    evidence = subparsers.add_parser(
        "evidence",
        parents=parents,
        help=_("add, verify and export evidence files"),
        description=_("Evidence files in the encrypted store, with their chain of custody."),
    )
    commands = evidence.add_subparsers(dest="evidence_command", metavar="ACTION", required=True)

    add = commands.add_parser("add", parents=parents, help=_("add files as evidence to a case"))
    add.add_argument(
        "files", nargs="+", type=Path, metavar="FILE", help=_("the files to store (one or more)")
    )
    add.add_argument("--case", required=True, metavar="ID", help=_("the case the files belong to"))
    add.add_argument("--interview", metavar="ID", help=_("link to an interview"))
    add.add_argument("--visit", metavar="ID", help=_("link to a visit"))
    add.add_argument(
        "--person", action="append", default=[], metavar="ID", help=_("link to a person")
    )
    add.add_argument("--type", choices=[t.value for t in ItemType], help=_("kind of item"))
    add.add_argument("--title", help=_("a short title"))
    add.add_argument("--description", help=_("what it shows and why it matters"))
    add.add_argument("--collected-by", metavar="WHO", help=_("who collected it"))
    add.add_argument(
        "--captured-at", metavar="WHEN", help=_("when it was photographed or recorded")
    )
    add.add_argument("--captured-where", metavar="PLACE", help=_("where it was captured"))
    add.add_argument("--obtained-from", metavar="SOURCE", help=_("person or place it came from"))
    add.add_argument(
        "--obtained-how", choices=[h.value for h in ObtainedHow], help=_("how it was obtained")
    )
    add.add_argument(
        "--allow-duplicate",
        action="store_true",
        help=_("store a file even if the same bytes are already in the profile"),
    )
    add.set_defaults(handler=cmd_add)

    listing = commands.add_parser("list", parents=parents, help=_("list evidence items"))
    listing.add_argument("--case", metavar="ID", help=_("only items of this case"))
    listing.set_defaults(handler=cmd_list)

    show = commands.add_parser("show", parents=parents, help=_("show one evidence item"))
    show.add_argument("item_id", metavar="ID", help=_("the evidence item id"))
    show.set_defaults(handler=cmd_show)

    verify = commands.add_parser(
        "verify", parents=parents, help=_("re-hash stored files against their recorded SHA-256")
    )
    verify.add_argument(
        "item_id", nargs="?", metavar="ID", help=_("one evidence item (default: every item)")
    )
    verify.set_defaults(handler=cmd_verify)

    export = commands.add_parser(
        "export", parents=parents, help=_("write an original out of the store, byte for byte")
    )
    export.add_argument("item_id", metavar="ID", help=_("the evidence item id"))
    export.add_argument(
        "--to",
        required=True,
        type=Path,
        metavar="PATH",
        dest="to",
        help=_(
            "a new file to write, or an existing folder (the original file name is used); "
            "an existing file is never replaced"
        ),
    )
    export.add_argument("--purpose", help=_("why it is exported (kept in the custody log)"))
    export.add_argument(
        "--audience",
        default=Audience.ORGANISATION.value,
        metavar="AUDIENCE",
        help=_(
            "who receives the file (default: organisation, the organisation itself); "
            "an item the disclosure policy withholds from them is not written; one of: {choices}"
        ).format(choices=", ".join(a.value for a in Audience)),
    )
    export.set_defaults(handler=cmd_export)

    custody = commands.add_parser("custody", parents=parents, help=_("show the chain of custody"))
    custody.add_argument("item_id", metavar="ID", help=_("the evidence item id"))
    custody.set_defaults(handler=cmd_custody)

    purge = commands.add_parser(
        "purge", parents=parents, help=_("destroy an item's file and key; cannot be undone")
    )
    purge.add_argument("item_id", metavar="ID", help=_("the evidence item id"))
    purge.add_argument("--reason", help=_("why it is purged (kept in the custody log)"))
    purge.set_defaults(handler=cmd_purge)

    describe = commands.add_parser(
        "describe",
        parents=parents,
        help=_("change an item's description and its links (interview, visit, persons)"),
    )
    describe.add_argument("item_id", metavar="ID", help=_("the evidence item id"))
    describe.add_argument("--title", help=_("a short title"))
    describe.add_argument("--description", help=_("what it shows and why it matters"))
    describe.add_argument(
        "--captured-at", metavar="WHEN", help=_("when it was photographed or recorded")
    )
    describe.add_argument("--captured-where", metavar="PLACE", help=_("where it was captured"))
    describe.add_argument(
        "--interview", metavar="ID", help=_("link to an interview ('none' removes the link)")
    )
    describe.add_argument(
        "--visit", metavar="ID", help=_("link to a visit ('none' removes the link)")
    )
    describe.add_argument(
        "--person",
        action="append",
        metavar="ID",
        help=_("link to a person (repeatable; replaces the persons linked; 'none' for none)"),
    )
    describe.set_defaults(handler=cmd_describe)


def _item_summary(item: EvidenceItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "sha256": item.sha256,
        "size": item.size,
        "media_type": item.media_type,
        "item_type": item.item_type.value,
        "original_name": item.original_name,
        "state": item.state.value,
        "created_at": item.created_at,
    }


def cmd_add(args: argparse.Namespace) -> int:
    info = EvidenceInput(
        item_type=ItemType(args.type) if args.type else None,
        title=args.title,
        description=args.description,
        content_created_at=args.captured_at,
        place_created=args.captured_where,
        collected_by=args.collected_by,
        obtained_from=args.obtained_from,
        obtained_how=ObtainedHow(args.obtained_how) if args.obtained_how else None,
    )
    with open_vault(args) as vault:
        service = EvidenceService(vault)
        results: list[dict[str, Any]] = []
        lines: list[str] = []
        failed = 0
        for path in args.files:
            progress = StderrProgress(str(path.name))
            try:
                result = service.add(
                    path,
                    case_id=args.case,
                    interview_id=args.interview,
                    visit_id=args.visit,
                    person_ids=args.person,
                    info=info,
                    allow_duplicate=args.allow_duplicate,
                    progress=progress,
                )
            except FieldkitError as exc:
                # One bad file does not stop the others; the command still fails at the end.
                failed += 1
                message = exc.message(i18n.current())
                results.append({"path": str(path), "status": "error", "error": exc.to_dict()})
                print(f"fieldkit: {message}", file=sys.stderr)
                continue
            entry: dict[str, Any] = {
                "path": str(path),
                "status": result.status,
                "id": result.item.id,
                "sha256": result.item.sha256,
                "size": result.item.size,
                "media_type": result.item.media_type,
            }
            if result.preview is not None:
                entry["preview"] = {
                    "status": result.preview.status.value,
                    "reason": result.preview.reason,
                }
                reason = result.preview.reason
                if reason and result.preview.status in (
                    PreviewStatus.HOSTILE,
                    PreviewStatus.FAILED,
                ):
                    print(
                        _("fieldkit: {name}: stored, but no preview: {reason}").format(
                            name=path.name, reason=_(reason)
                        ),
                        file=sys.stderr,
                    )
            results.append(entry)
            if result.status == "duplicate":
                lines.append(
                    _("{path}: already stored as {id} (not added again)").format(
                        path=path, id=result.item.id
                    )
                )
            else:
                lines.append(f"{result.item.id}  {result.item.sha256}  {path}")
        emit(args, {"ok": not failed, "items": results}, lines)
        return 1 if failed else 0


def cmd_list(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        items = EvidenceService(vault).list_items(case_id=args.case)
    lines = [
        f"{i.id}  {i.state.value:<6}  {i.media_type:<24}  {i.size:>12}  {i.original_name}"
        for i in items
    ]
    lines.append(ngettext("{n} item", "{n} items", len(items)).format(n=len(items)))
    emit(args, {"ok": True, "items": [_item_summary(i) for i in items]}, lines)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        service = EvidenceService(vault)
        item = service.get(args.item_id)
        events = service.custody_events(args.item_id)
    data = item.model_dump(mode="json")
    integrity = _integrity(item, events)
    lines = [
        _("integrity (SHA-256 of the stored file): {status}").format(
            status=_integrity_text(integrity)
        ),
        _("content verification (corroboration): {status}").format(
            status=_(
                VERIFICATION_STATUS_LABELS.get(
                    item.verification_status, item.verification_status.value
                )
            )
        ),
    ]
    data.pop("verification_status", None)
    lines.extend(_flatten(data))
    data["verification_status"] = item.verification_status.value
    emit(args, {"ok": True, **data, "integrity": integrity}, lines)
    return 0


def _integrity(item: EvidenceItem, events: list[CustodyEvent]) -> dict[str, Any]:
    """The newest hash check of the stored file, from the custody log."""
    if item.state == ItemState.PURGED:
        return {"status": "purged", "checked_at": None}
    for event in reversed(events):
        if event.action == CustodyAction.HASH_VERIFIED:
            return {"status": "ok", "checked_at": event.at}
        if event.action == CustodyAction.INTEGRITY_FAILURE:
            return {"status": "failed", "checked_at": event.at}
    return {"status": "not_checked", "checked_at": None}


def _integrity_text(integrity: dict[str, Any]) -> str:
    status = integrity["status"]
    if status == "ok":
        return _("hash matches, checked {time}").format(time=integrity["checked_at"])
    if status == "failed":
        return _("FAILED at the check of {time}").format(time=integrity["checked_at"])
    if status == "purged":
        return _("not checked: the file was purged")
    return _("not checked yet (run: fieldkit evidence verify ID)")


def _flatten(value: Any, prefix: str = "") -> Iterator[str]:
    """Nested values as "a.b: value" lines, empty values left out."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _flatten(inner, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list):
        if value:
            yield f"{prefix}: " + ", ".join(str(v) for v in value)
    elif value is not None:
        yield f"{prefix}: {value}"


def cmd_verify(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        service = EvidenceService(vault)
        results = service.verify(args.item_id, progress=StderrProgress(_("verifying")))
        problems = service.verify_custody(args.item_id)
    failures = [r for r in results if not r.ok]
    checked = [r for r in results if r.status != "purged"]
    skipped = len(results) - len(checked)
    lines = []
    for r in results:
        label = {
            "ok": _("OK"),
            "purged": _("purged, not checked"),
            "missing": _("MISSING"),
        }.get(r.status, _("TAMPERED"))
        line = f"{r.item_id}  {label}"
        if r.detail:
            where = "; " + _("encrypted block {n}").format(n=r.chunk) if r.chunk is not None else ""
            line += f"  ({_(r.detail)}{where})"
        lines.append(line)
    for p in problems:
        lines.append(
            _("custody log of {id}, device {device}, event {seq}: {reason}").format(
                id=p.item_id, device=p.device_id[:8], seq=p.seq, reason=_(p.reason)
            )
        )
    ok = not failures and not problems
    lines.append(
        ngettext(
            "{n} item checked against its SHA-256",
            "{n} items checked against their SHA-256",
            len(checked),
        ).format(n=len(checked))
        + "; "
        + ngettext(
            "{n} skipped because it was purged.",
            "{n} skipped because they were purged.",
            skipped,
        ).format(n=skipped)
    )
    if failures:
        lines.append(
            ngettext(
                "{n} item failed verification.", "{n} items failed verification.", len(failures)
            ).format(n=len(failures))
        )
    if problems:
        lines.append(_("The custody log is broken."))
    if ok:
        lines.append(
            _("Every stored file matches its SHA-256; the custody log is intact.")
            if checked
            else _("No stored file was checked (nothing to hash); the custody log is intact.")
        )
    emit(
        args,
        {
            "ok": ok,
            "checked": len(checked),
            "skipped_purged": skipped,
            "failed": len(failures),
            "items": [r.model_dump(mode="json") for r in results],
            "custody_problems": [p.__dict__ for p in problems],
        },
        lines,
    )
    return 0 if ok else 1


def cmd_export(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        result = EvidenceService(vault).export(
            args.item_id,
            args.to,
            purpose=args.purpose,
            audience=parse_audience(args.audience),
            progress=StderrProgress(_("exporting")),
        )
    emit(
        args,
        {
            "ok": True,
            "id": result.item_id,
            "path": result.path,
            "sha256": result.sha256,
            "size": result.size,
        },
        _("Exported {id} to {path} (SHA-256 {sha256}).").format(
            id=result.item_id, path=result.path, sha256=result.sha256
        ),
    )
    return 0


def _event_line(event: CustodyEvent) -> str:
    label = _(CUSTODY_ACTION_LABELS.get(event.action, event.action.value))
    parts = [event.at, label, event.actor]
    if event.purpose:
        parts.append(_("purpose: {purpose}").format(purpose=custody_purpose_text(event.purpose, _)))
    if event.hash_before:
        parts.append(_("before {hash}").format(hash=event.hash_before[:16]))
    if event.hash_after:
        parts.append(_("after {hash}").format(hash=event.hash_after[:16]))
    for key, value in sorted(event.details.items()):
        if value not in (None, ""):
            parts.append(f"{custody_detail_label(key, _)}: {custody_detail_value(key, value, _)}")
    return "  ".join(parts)


def cmd_custody(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        service = EvidenceService(vault)
        events = service.custody_events(args.item_id)
        problems = service.verify_custody(args.item_id)
    lines = [_event_line(e) for e in events]
    for p in problems:
        lines.append(
            _("BROKEN at event {seq} of device {device}: {reason}").format(
                seq=p.seq, device=p.device_id[:8], reason=_(p.reason)
            )
        )
    emit(
        args,
        {
            "ok": not problems,
            "id": args.item_id,
            "intact": not problems,
            "events": [e.model_dump(mode="json") for e in events],
            "problems": [p.__dict__ for p in problems],
        },
        lines,
    )
    return 0 if not problems else 1


def cmd_purge(args: argparse.Namespace) -> int:
    confirm_destructive(args)
    with open_vault(args) as vault:
        item = EvidenceService(vault).purge(args.item_id, reason=args.reason)
    emit(
        args,
        {"ok": True, "id": item.id, "state": item.state.value, "sha256": item.sha256},
        _("Purged {id}: its key and file are destroyed; the custody log remains.").format(
            id=item.id
        ),
    )
    return 0


def cmd_describe(args: argparse.Namespace) -> int:
    def ref(value: str | None, current: str | None) -> str | None:
        if value is None:
            return current
        return None if value.strip().lower() == "none" else value

    changes = {
        name: value
        for name, value in (
            ("title", args.title),
            ("description", args.description),
            ("content_created_at", args.captured_at),
            ("place_created", args.captured_where),
        )
        if value is not None
    }
    with open_vault(args) as vault:
        service = EvidenceService(vault)
        item = service.get(args.item_id)
        if changes:
            item = service.update(item.id, EvidenceUpdate(**changes))
        persons = item.links.person_ids
        if args.person is not None:
            persons = tuple(p for p in args.person if p.strip().lower() != "none")
        links = EvidenceLinks(
            case_id=item.links.case_id,
            interview_id=ref(args.interview, item.links.interview_id),
            visit_id=ref(args.visit, item.links.visit_id),
            person_ids=persons,
        )
        item = service.set_links(item.id, links)
        declined = [
            s for s, status in service.media_consent(item.id).items() if status == "declined"
        ]
    lines = [_("Saved {id}.").format(id=item.id)]
    if declined:
        lines.append(
            _(
                "The interviewee declined or withdrew consent to: {scopes}. This item never "
                "leaves in an output for anyone outside the organisation."
            ).format(scopes=", ".join(declined))
        )
    emit(args, {"ok": True, **item.model_dump(mode="json"), "declined_media": declined}, lines)
    return 0
