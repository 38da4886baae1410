"""Bundle commands: org, enrol, trust, export, import, verify, receipt, purge."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from fieldkit import i18n
from fieldkit.cli.common import StderrProgress, confirm_destructive, emit, open_vault
from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.i18n import _, ngettext
from fieldkit.services import bundles as bundle_service
from fieldkit.services import trust as trust_service
from fieldkit.services.bundles import BundleReport


def register(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    org = subparsers.add_parser(
        "org", parents=parents, help=_("organisation keys (coordinator profile)")
    )
    org_sub = org.add_subparsers(dest="org_command", metavar="ACTION", required=True)
    init = org_sub.add_parser(
        "init", parents=parents, help=_("make the organisation's signing and encryption keys")
    )
    init.add_argument("--name", default="Organisation", help=_("the organisation's name"))
    init.set_defaults(handler=cmd_org_init)
    public = org_sub.add_parser(
        "public", parents=parents, help=_("write the signed organisation card for monitors")
    )
    public.add_argument("--out", type=Path, required=True, metavar="FILE")
    public.set_defaults(handler=cmd_org_public)
    ident = org_sub.add_parser(
        "export-identity",
        parents=parents,
        help=_("write the decryption key in age format (keep it offline; losing it loses bundles)"),
    )
    ident.add_argument("--out", type=Path, required=True, metavar="FILE")
    ident.set_defaults(handler=cmd_org_export_identity)

    enrol = subparsers.add_parser(
        "enrol", parents=parents, help=_("enrol this device with an organisation (monitor profile)")
    )
    enrol.add_argument("card", type=Path, metavar="ORG_CARD")
    enrol.add_argument("--out", type=Path, required=True, metavar="DEVICE_PUB")
    enrol.set_defaults(handler=cmd_enrol)

    trust = subparsers.add_parser("trust", parents=parents, help=_("the list of enrolled devices"))
    trust_sub = trust.add_subparsers(dest="trust_command", metavar="ACTION", required=True)
    add = trust_sub.add_parser("add", parents=parents, help=_("enrol a device's public key"))
    add.add_argument("device_pub", type=Path, metavar="DEVICE_PUB")
    add.add_argument("--label", required=True)
    add.set_defaults(handler=cmd_trust_add)
    lst = trust_sub.add_parser(
        "list", parents=parents, help=_("list devices, alarms and held bundles")
    )
    lst.set_defaults(handler=cmd_trust_list)
    revoke = trust_sub.add_parser("revoke", parents=parents, help=_("revoke a device"))
    revoke.add_argument("device", metavar="DEVICE", help=_("device id, key id or label"))
    revoke.add_argument("--last-good-seq", type=int, default=None, metavar="N")
    revoke.set_defaults(handler=cmd_trust_revoke)

    export = subparsers.add_parser(
        "export", parents=parents, help=_("write a signed, encrypted bundle (monitor profile)")
    )
    export.add_argument("--to", type=Path, required=True, metavar="DIR")
    export.set_defaults(handler=cmd_export)

    imp = subparsers.add_parser(
        "import", parents=parents, help=_("import bundles (coordinator profile)")
    )
    imp.add_argument("bundles", type=Path, nargs="+", metavar="BUNDLE")
    imp.add_argument("--receipt-dir", type=Path, default=None, metavar="DIR")
    imp.set_defaults(handler=cmd_import)

    ver = subparsers.add_parser(
        "verify", parents=parents, help=_("check a bundle without importing it")
    )
    ver.add_argument("bundle", type=Path, metavar="BUNDLE")
    ver.set_defaults(handler=cmd_verify)

    receipt = subparsers.add_parser("receipt", parents=parents, help=_("import receipts"))
    receipt_sub = receipt.add_subparsers(dest="receipt_command", metavar="ACTION", required=True)
    apply = receipt_sub.add_parser(
        "apply", parents=parents, help=_("mark what the organisation acknowledged")
    )
    apply.add_argument("receipt", type=Path, metavar="RECEIPT")
    apply.set_defaults(handler=cmd_receipt_apply)

    purge = subparsers.add_parser(
        "purge", parents=parents, help=_("erase acknowledged evidence originals from this laptop")
    )
    purge.add_argument("--acknowledged", action="store_true", required=True)
    purge.set_defaults(handler=cmd_purge)


def cmd_org_init(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        info = trust_service.init_org(vault, args.name)
    emit(
        args,
        {"ok": True, **info.__dict__},
        [
            _("Organisation keys created for {name}.").format(name=info.name),
            _("Signing key id: {key}").format(key=info.key_id),
            _("Encryption recipient: {recipient}").format(recipient=info.recipient),
            _("Back up the decryption key now: fieldkit org export-identity --out FILE --yes"),
        ],
    )
    return 0


def cmd_org_public(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        info = trust_service.write_card(vault, args.out)
    emit(
        args,
        {"ok": True, "path": str(args.out), "key_id": info.key_id},
        _("Wrote the organisation card to {path}.").format(path=args.out),
    )
    return 0


def cmd_org_export_identity(args: argparse.Namespace) -> int:
    confirm_destructive(args)
    with open_vault(args) as vault:
        info = trust_service.export_identity(vault, args.out)
    emit(
        args,
        {"ok": True, "path": str(args.out), "recipient": info.recipient},
        [
            _("Wrote the organisation's decryption key to {path}.").format(path=args.out),
            _("Anyone with this file can read every bundle: keep it offline and locked away."),
        ],
    )
    return 0


def cmd_enrol(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        result = trust_service.enrol(vault, args.card, args.out)
    emit(
        args,
        {"ok": True, **result.__dict__, "device_pub": str(args.out)},
        [
            _("Enrolled with {org}. Device public key written to {path}.").format(
                org=result.org_name, path=args.out
            ),
            _("Comparison code (read it aloud with the coordinator): {code}").format(
                code=result.code
            ),
        ],
    )
    return 0


def cmd_trust_add(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        info = trust_service.add_device(vault, args.device_pub, args.label)
    emit(
        args,
        {"ok": True, **info.to_dict()},
        [
            _("Enrolled device {label} ({device}).").format(
                label=info.label, device=info.device_id
            ),
            _("Comparison code (must match the one on the monitor's screen): {code}").format(
                code=info.code
            ),
        ],
    )
    return 0


def cmd_trust_list(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        devices = trust_service.list_devices(vault)
        alarms = bundle_service.list_alarms(vault)
        held = bundle_service.list_quarantined(vault)
    lines = []
    for d in devices:
        lines.append(
            _("{label}  {device}  key {key}  {status}  last bundle {seq}").format(
                label=d.label, device=d.device_id, key=d.key_id, status=d.status, seq=d.last_seq
            )
        )
    if not devices:
        lines.append(_("No devices are enrolled."))
    for a in alarms:
        lines.append(
            _("ALARM {kind}: device {device} bundle {seq} ({when})").format(
                kind=a["kind"], device=a["device_id"], seq=a["seq"], when=a["raised_at"]
            )
        )
    for q in held:
        lines.append(
            _("Held bundle {name}: {reason} (key {key}, {when})").format(
                name=q["file_name"], reason=q["reason"], key=q["key_id"], when=q["received_at"]
            )
        )
    emit(
        args,
        {"ok": True, "devices": [d.to_dict() for d in devices], "alarms": alarms, "held": held},
        lines,
    )
    return 0


def cmd_trust_revoke(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        info = trust_service.revoke_device(vault, args.device, args.last_good_seq)
    emit(
        args,
        {"ok": True, **info.to_dict()},
        _(
            "Revoked {label}: bundles up to number {seq} are still accepted and flagged; "
            "later ones are held for review."
        ).format(label=info.label, seq=info.last_good_seq),
    )
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        result = bundle_service.export_bundle(
            vault, args.to, progress=None if args.json else StderrProgress(_("Exporting"))
        )
    emit(
        args,
        {"ok": True, **result.to_dict()},
        [
            _("Wrote bundle {seq} to {path}.").format(seq=result.seq, path=result.path),
            ngettext("{n} record version", "{n} record versions", result.records).format(
                n=result.records
            )
            + ", "
            + ngettext("{n} evidence file", "{n} evidence files", result.objects).format(
                n=result.objects
            ),
        ],
    )
    return 0


def _report_lines(report: BundleReport) -> list[str]:
    lines = [
        _("{path}: {status}").format(path=report.path, status=_status_text(report.status)),
    ]
    if report.device_id:
        lines.append(
            _("  signed by {label} ({device}), bundle {seq}").format(
                label=report.signer_label, device=report.device_id, seq=report.seq
            )
        )
    if report.chain:
        lines.append(_("  chain: {chain}").format(chain=report.chain))
    if report.gaps:
        lines.append(
            _("  missing earlier bundles: {seqs}").format(seqs=", ".join(map(str, report.gaps)))
        )
    if report.status not in ("refused", "already_imported"):
        lines.append(
            _("  {records} records ({new} new, {same} already here), {objects} files").format(
                records=report.records,
                new=report.records_new,
                same=report.records_same,
                objects=report.objects,
            )
        )
    for conflict in report.conflicts:
        lines.append(
            _(
                "  CONFLICT: record {id} revision {rev} differs from the copy here; both kept"
            ).format(id=conflict["record_id"], rev=conflict["revision"])
        )
    if report.refusal:
        lines.append("  " + report.refusal["message"])
    if report.receipt:
        lines.append(_("  receipt written to {path}").format(path=report.receipt))
    return lines


def _status_text(status: str) -> str:
    return {
        "imported": _("imported"),
        "flagged": _("imported, flagged (revoked device)"),
        "already_imported": _("already imported; nothing changed"),
        "verified": _("all checks passed"),
        "refused": _("REFUSED"),
    }.get(status, status)


def cmd_import(args: argparse.Namespace) -> int:
    reports: list[dict[str, Any]] = []
    failed = 0
    with open_vault(args) as vault:
        for path in args.bundles:
            try:
                report = bundle_service.import_bundle(
                    vault,
                    path,
                    receipt_dir=args.receipt_dir,
                    progress=None if args.json else StderrProgress(_("Importing")),
                )
            except FieldkitError as exc:
                if exc.code == ErrorCode.CANCELLED:
                    raise
                failed += 1
                refused = BundleReport(path=str(path))
                refused.refusal = {
                    "code": exc.code.value,
                    "message": exc.message(i18n.current()),
                }
                report = refused
            reports.append(report.to_dict())
            if not args.json:
                if report.refusal is not None:
                    # Refusals follow the command line's convention for errors: stderr.
                    print(f"fieldkit: {report.refusal['message']}", file=sys.stderr)
                else:
                    for line in _report_lines(report):
                        print(line)
    if args.json:
        emit(args, {"ok": failed == 0, "bundles": reports}, [])
    return 1 if failed else 0


def cmd_verify(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        report = bundle_service.verify_bundle(vault, args.bundle)
    emit(args, {"ok": report.ok, **report.to_dict()}, _report_lines(report))
    return 0 if report.ok else 1


def cmd_receipt_apply(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        result = bundle_service.apply_receipt(vault, args.receipt)
    emit(
        args,
        {"ok": True, **result.__dict__},
        _("Receipt applied: the organisation has everything up to change {n}.").format(
            n=result.acknowledged_through
        ),
    )
    return 0


def cmd_purge(args: argparse.Namespace) -> int:
    confirm_destructive(args)
    with open_vault(args) as vault:
        result = bundle_service.purge_acknowledged(vault)
    n = len(result.purged)
    emit(
        args,
        {"ok": True, "purged": result.purged, "acknowledged_through": result.acknowledged_through},
        ngettext(
            "Erased {n} acknowledged evidence file from this laptop.",
            "Erased {n} acknowledged evidence files from this laptop.",
            n,
        ).format(n=n),
    )
    return 0
