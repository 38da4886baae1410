"""Bundle commands: export, import, verify, receipt, purge (org, enrol and trust are in
:mod:`fieldkit.cli.trust`)."""

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
from fieldkit.services.bundles import BundleReport
from fieldkit.services.bundles.sequence import gaps_text


def register(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    export = subparsers.add_parser(
        "export", parents=parents, help=_("write a signed, encrypted bundle (monitor profile)")
    )
    export.add_argument(
        "--to",
        type=Path,
        required=True,
        metavar="DIR",
        help=_("the folder to write the bundle to (e.g. the USB stick)"),
    )
    export.set_defaults(handler=cmd_export)

    imp = subparsers.add_parser(
        "import", parents=parents, help=_("import bundles (coordinator profile)")
    )
    imp.add_argument(
        "bundles", type=Path, nargs="+", metavar="BUNDLE", help=_("bundle files (.fkb)")
    )
    imp.add_argument(
        "--receipt-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help=_("where to write receipts (default: next to each bundle)"),
    )
    imp.set_defaults(handler=cmd_import)

    ver = subparsers.add_parser(
        "verify", parents=parents, help=_("check a bundle without importing it")
    )
    ver.add_argument("bundle", type=Path, metavar="BUNDLE", help=_("the bundle file (.fkb)"))
    ver.set_defaults(handler=cmd_verify)

    receipt = subparsers.add_parser("receipt", parents=parents, help=_("import receipts"))
    receipt_sub = receipt.add_subparsers(dest="receipt_command", metavar="ACTION", required=True)
    apply = receipt_sub.add_parser(
        "apply", parents=parents, help=_("mark what the organisation acknowledged")
    )
    apply.add_argument(
        "receipt",
        type=Path,
        metavar="RECEIPT",
        help=_("the receipt file receipt-….json (its .minisig file must lie next to it)"),
    )
    apply.set_defaults(handler=cmd_receipt_apply)

    purge = subparsers.add_parser(
        "purge", parents=parents, help=_("erase acknowledged evidence originals from this laptop")
    )
    purge.add_argument(
        "--acknowledged",
        action="store_true",
        required=True,
        help=_("erase only what a receipt acknowledged (required)"),
    )
    purge.set_defaults(handler=cmd_purge)


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
        lines.append(_("  chain: {chain}").format(chain=_chain_text(report.chain)))
    if report.gaps:
        lines.append(_("  missing earlier bundles: {seqs}").format(seqs=gaps_text(report.gaps)))
    if report.status != "refused":
        lines.append(
            "  "
            + ngettext("{n} record version", "{n} record versions", report.records).format(
                n=report.records
            )
            + " ("
            + bundle_service.record_counts_text(report)
            + "), "
            + ngettext("{n} file", "{n} files", report.objects).format(n=report.objects)
        )
    for conflict in report.conflicts:
        lines.append(
            _(
                "  CONFLICT: record {id} revision {rev} differs from the copy here; both kept"
            ).format(id=conflict["record_id"], rev=conflict["revision"])
        )
    if report.refusal:
        lines.append("  " + report.refusal["message"])
        step = bundle_service.refusal_next_step(report.refusal.get("code"))
        if step:
            lines.append("  " + step)
    if report.receipt:
        lines.append(_("  receipt written to {path}").format(path=report.receipt))
    if report.held_resolved:
        lines.append(
            "  "
            + ngettext(
                "{n} held copy of this bundle is resolved and removed from the held list",
                "{n} held copies of this bundle are resolved and removed from the held list",
                report.held_resolved,
            ).format(n=report.held_resolved)
        )
    return lines


def _chain_text(chain: str) -> str:
    return {
        "first": _("first bundle of this device"),
        "linked": _("follows the previous bundle"),
        "pending": _("an earlier bundle is missing"),
    }.get(chain, chain)


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
            if report.refusal is not None:
                report.refusal["next_step"] = (
                    bundle_service.refusal_next_step(report.refusal["code"]) or ""
                )
            reports.append(report.to_dict())
            if not args.json:
                if report.refusal is not None:
                    # Refusals follow the command line's convention for errors: stderr.
                    print(f"fieldkit: {report.refusal['message']}", file=sys.stderr)
                    if report.refusal["next_step"]:
                        print(f"fieldkit: {report.refusal['next_step']}", file=sys.stderr)
                else:
                    for line in _report_lines(report):
                        print(line)
    if args.json:
        emit(args, {"ok": failed == 0, "bundles": reports}, [])
    return 1 if failed else 0


def cmd_verify(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        try:
            report = bundle_service.verify_bundle(vault, args.bundle)
        except FieldkitError as exc:
            step = bundle_service.refusal_next_step(exc.code.value)
            if step:
                setattr(exc, "cli_hint", step)  # noqa: B010 - read by cli.main with getattr
            raise
    emit(args, {"ok": report.ok, **report.to_dict()}, _report_lines(report))
    return 0 if report.ok else 1


def cmd_receipt_apply(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        result = bundle_service.apply_receipt(vault, args.receipt)
    lines = [_("Receipt applied.")] + bundle_service.receipt_summary(result)
    if result.erasable:
        lines.append(_("To erase them: fieldkit purge --acknowledged --yes"))
    emit(args, {"ok": True, **result.__dict__}, lines)
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
