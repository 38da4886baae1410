"""Record commands: `case`, `record`, `search` and `audit`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fieldkit.cli.common import emit, open_vault
from fieldkit.cli.record_args import (
    MAX_PAGE,
    add_filters,
    add_paging,
    limit_value,
    record_filters,
    revision_value,
)
from fieldkit.cli.record_input import read_form_data, report_invalid
from fieldkit.cli.record_show import (
    link_doc,
    record_doc,
    show_record,
    summary_line,
    title_of,
    type_name,
    warning_docs,
    when_text,
)
from fieldkit.domain.errors import (
    RecordValidationError,
    ValidationIssue,
)
from fieldkit.domain.forms import (
    template_ids,
)
from fieldkit.i18n import _, ngettext
from fieldkit.services.audit import AuditService
from fieldkit.services.records import (
    CaseService,
    RecordService,
    RecordSummary,
    RecordView,
)
from fieldkit.services.search import SearchService, highlight


def register(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    _register_case(subparsers, parents)
    _register_record(subparsers, parents)
    _register_search(subparsers, parents)
    _register_audit(subparsers, parents)


# --- parsers -----------------------------------------------------------------------------------


def _register_case(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    case = subparsers.add_parser("case", parents=parents, help=_("add, list and show cases"))
    sub = case.add_subparsers(dest="case_command", metavar="ACTION", required=True)

    add = sub.add_parser("add", parents=parents, help=_("create a case with a title"))
    add.add_argument("--title", required=True, help=_("the case title"))
    add.add_argument(
        "--type",
        dest="case_type",
        default="other",
        help=_("case type from the case_types vocabulary (default: other)"),
    )
    add.add_argument(
        "--confidential", action="store_true", help=_("mark the whole case confidential")
    )
    add.set_defaults(handler=cmd_case_add)

    lst = sub.add_parser("list", parents=parents, help=_("list cases, newest change first"))
    lst.add_argument(
        "--status", metavar="CODE", help=_("only cases with this monitoring status (a code)")
    )
    add_paging(lst)
    lst.set_defaults(handler=cmd_case_list)

    show = sub.add_parser("show", parents=parents, help=_("show a case"))
    show.add_argument("id", help=_("the case id"))
    show.add_argument("--history", action="store_true", help=_("also list every saved version"))
    show.set_defaults(handler=cmd_case_show)


def _register_record(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    record = subparsers.add_parser(
        "record", parents=parents, help=_("add, revise, show and list records of any form")
    )
    sub = record.add_subparsers(dest="record_command", metavar="ACTION", required=True)

    add = sub.add_parser("add", parents=parents, help=_("add a record from a JSON file"))
    add.add_argument("--form", required=True, help=_("form: {forms}").format(forms=_form_list()))
    add.add_argument("--file", required=True, type=Path, help=_("JSON file with the form data"))
    add.add_argument("--confidential", action="store_true", help=_("mark the record confidential"))
    add.set_defaults(handler=cmd_record_add)

    update = sub.add_parser("update", parents=parents, help=_("save a new revision from a file"))
    update.add_argument("id", help=_("the record id"))
    update.add_argument("--file", required=True, type=Path, help=_("JSON file with the form data"))
    update.add_argument(
        "--revision",
        required=True,
        type=revision_value,
        metavar="N",
        help=_("the revision you edited (refused if someone saved a newer one)"),
    )
    conf = update.add_mutually_exclusive_group()
    conf.add_argument(
        "--confidential",
        dest="confidential",
        action="store_true",
        default=None,
        help=_("mark the record confidential"),
    )
    conf.add_argument(
        "--not-confidential",
        dest="confidential",
        action="store_false",
        help=_("remove the confidential mark"),
    )
    update.set_defaults(handler=cmd_record_update)

    delete = sub.add_parser(
        "delete", parents=parents, help=_("delete a record (its history is kept)")
    )
    delete.add_argument("id", help=_("the record id"))
    delete.add_argument(
        "--revision",
        required=True,
        type=revision_value,
        metavar="N",
        help=_("the revision you saw (refused if someone saved a newer one)"),
    )
    delete.add_argument(
        "--force",
        action="store_true",
        help=_(
            "delete even though other records still refer to this one "
            "(they keep a reference to a deleted record)"
        ),
    )
    delete.set_defaults(handler=cmd_record_delete)

    show = sub.add_parser("show", parents=parents, help=_("show a record"))
    show.add_argument("id", help=_("the record id"))
    show.add_argument("--history", action="store_true", help=_("also list every saved version"))
    show.set_defaults(handler=cmd_record_show)

    lst = sub.add_parser("list", parents=parents, help=_("list records, newest change first"))
    add_filters(lst)
    add_paging(lst)
    lst.set_defaults(handler=cmd_record_list)

    link = sub.add_parser("link", parents=parents, help=_("link a person to a case with a role"))
    link.add_argument("person", help=_("the person record id"))
    link.add_argument("case", help=_("the case record id"))
    link.add_argument(
        "--role",
        default="",
        metavar="CODE",
        help=_(
            "a code from the event_roles vocabulary: victim_direct, witness_eye, "
            "perpetrator, source, ..."
        ),
    )
    link.set_defaults(handler=cmd_record_link)

    unlink = sub.add_parser("unlink", parents=parents, help=_("remove a person-case link"))
    unlink.add_argument("person", help=_("the person record id"))
    unlink.add_argument("case", help=_("the case record id"))
    unlink.add_argument(
        "--role", default="", metavar="CODE", help=_("the role of the link to remove")
    )
    unlink.set_defaults(handler=cmd_record_unlink)


def _register_search(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    search = subparsers.add_parser(
        "search",
        parents=parents,
        help=_("find records by words in titles, narratives and notes"),
        description=_(
            "Every word must appear in the record (as the start of a word); "
            "case and Latin accents are ignored."
        ),
    )
    search.add_argument("query", nargs="+", help=_("the words to look for"))
    add_filters(search)
    add_paging(search)
    search.set_defaults(handler=cmd_search)


def _register_audit(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    audit = subparsers.add_parser("audit", parents=parents, help=_("check the audit log"))
    sub = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    verify = sub.add_parser(
        "verify",
        parents=parents,
        help=_("verify the hash chain of the audit log and every saved record version"),
    )
    verify.add_argument(
        "--full",
        action="store_true",
        help=_(
            "check every entry and version again instead of continuing from the last "
            "signed checkpoint"
        ),
    )
    verify.set_defaults(handler=cmd_audit_verify)
    log = sub.add_parser("log", parents=parents, help=_("show audit entries"))
    log.add_argument("id", nargs="?", help=_("only entries about this record"))
    log.add_argument(
        "--limit",
        type=limit_value,
        default=50,
        metavar="N",
        help=_("how many recent entries, 1 to {most} (default 50)").format(most=MAX_PAGE),
    )
    log.set_defaults(handler=cmd_audit_log)


# --- helpers -----------------------------------------------------------------------------------


def _form_list() -> str:
    try:
        return ", ".join(template_ids())
    except Exception:  # the list is only help text; a broken folder shows up when used
        return "case, person, interview, facility, visit, recommendation"


def _summary_doc(record: RecordSummary) -> dict[str, Any]:
    return {
        "id": record.id,
        "type": record.type,
        "title": record.title,
        "revision": record.revision,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
        "confidential": record.confidential,
        "deleted": record.deleted,
        "status": record.status,
        "facility_id": record.facility_id,
        "date_from": record.date_from,
        "date_to": record.date_to,
    }


def _list_output(
    args: argparse.Namespace, records: list[RecordSummary], total: int, empty: str
) -> None:
    data = {
        "ok": True,
        "total": total,
        "offset": args.offset,
        "records": [_summary_doc(r) for r in records],
    }
    if not records:
        emit(args, data, empty)
        return
    lines = [summary_line(r) for r in records]
    lines.append(
        _("Showing {first}–{last} of {total}.").format(
            first=args.offset + 1, last=args.offset + len(records), total=total
        )
    )
    emit(args, data, lines)


def _saved_lines(record: RecordView, verb: str) -> list[str]:
    return [
        verb.format(type=type_name(record.type), id=record.id, revision=record.revision),
        _("Title: {title}").format(title=title_of(record)),
    ]


# --- handlers ----------------------------------------------------------------------------------


def cmd_case_add(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        try:
            record = CaseService(vault).add(
                args.title, confidential=args.confidential, case_type=args.case_type
            )
        except RecordValidationError as exc:
            return report_invalid(args, exc)
        warnings = RecordService(vault).warnings(record)
    emit(
        args,
        {
            "ok": True,
            "id": record.id,
            "record": record_doc(record),
            "warnings": warning_docs(warnings),
        },
        _saved_lines(record, _("Created {type} {id} (revision {revision}).")),
    )
    _print_warnings(args, warnings)
    return 0


def _print_warnings(_args: argparse.Namespace, warnings: Sequence[ValidationIssue]) -> None:
    """Warnings go to stderr (stdout keeps its one JSON document under --json)."""
    for w in warnings:
        print(
            _("warning: {field}: {reason}").format(field=w.field, reason=w.reason), file=sys.stderr
        )


def cmd_case_list(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        cases = CaseService(vault)
        records = cases.list_summaries(offset=args.offset, limit=args.limit, status=args.status)
        total = cases.count(status=args.status)
    _list_output(
        args, records, total, _("No cases yet. Create one with: fieldkit case add --title …")
    )
    return 0


def cmd_case_show(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        CaseService(vault).get(args.id)
        return show_record(args, RecordService(vault), args.id)


def cmd_record_add(args: argparse.Namespace) -> int:
    data = read_form_data(args.file)
    with open_vault(args) as vault:
        try:
            record = RecordService(vault).add(args.form, data, confidential=args.confidential)
        except RecordValidationError as exc:
            return report_invalid(args, exc)
        warnings = RecordService(vault).warnings(record)
    emit(
        args,
        {
            "ok": True,
            "id": record.id,
            "record": record_doc(record),
            "warnings": warning_docs(warnings),
        },
        _saved_lines(record, _("Created {type} {id} (revision {revision}).")),
    )
    _print_warnings(args, warnings)
    return 0


def cmd_record_update(args: argparse.Namespace) -> int:
    data = read_form_data(args.file)
    with open_vault(args) as vault:
        try:
            record = RecordService(vault).update(
                args.id, data, args.revision, confidential=args.confidential
            )
        except RecordValidationError as exc:
            return report_invalid(args, exc)
        warnings = RecordService(vault).warnings(record)
    unchanged = record.revision == args.revision
    verb = (
        _("No change: {type} {id} stays at revision {revision}.")
        if unchanged
        else _("Saved {type} {id} as revision {revision}.")
    )
    emit(
        args,
        {
            "ok": True,
            "id": record.id,
            "changed": not unchanged,
            "record": record_doc(record),
            "warnings": warning_docs(warnings),
        },
        _saved_lines(record, verb),
    )
    _print_warnings(args, warnings)
    return 0


def cmd_record_delete(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        record = RecordService(vault).delete(args.id, args.revision, force=args.force)
    emit(
        args,
        {"ok": True, "id": record.id, "revision": record.revision, "deleted": True},
        _("Deleted {type} {id} (revision {revision}); its history is kept.").format(
            type=type_name(record.type), id=record.id, revision=record.revision
        ),
    )
    return 0


def cmd_record_show(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        return show_record(args, RecordService(vault), args.id)


def cmd_record_list(args: argparse.Namespace) -> int:
    filters = record_filters(args)
    with open_vault(args) as vault:
        service = RecordService(vault)
        records = service.list_summaries(filters, offset=args.offset, limit=args.limit)
        total = service.count(filters)
    _list_output(args, records, total, _("No records match."))
    return 0


def cmd_record_link(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        link = RecordService(vault).link_person(args.person, args.case, args.role)
    emit(
        args,
        {"ok": True, "link": link_doc(link)},
        _("Linked person {person} to case {case}{role}.").format(
            person=link.from_id,
            case=link.to_id,
            role=f" ({link.role})" if link.role else "",
        ),
    )
    return 0


def cmd_record_unlink(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        removed = RecordService(vault).unlink_person(args.person, args.case, args.role)
    message = _("Link removed.") if removed else _("There was no such link.")
    emit(args, {"ok": True, "removed": removed}, message)
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    query = " ".join(args.query)
    filters = record_filters(args)
    with open_vault(args) as vault:
        service = SearchService(vault)
        results = service.search(query, filters, offset=args.offset, limit=args.limit)
        total = service.count(query, filters) if results.hits else 0
    data = {
        "ok": True,
        "query": query,
        "total": total,
        "offset": args.offset,
        "hits": [
            {
                "id": hit.record_id,
                "type": hit.type,
                "title": hit.title,
                "revision": hit.revision,
                "updated_at": hit.updated_at,
                "snippet": highlight(hit.snippet, "[", "]"),
                "rank": hit.rank,
            }
            for hit in results.hits
        ],
    }
    if not results.hits:
        emit(args, data, _("Nothing found for: {query}").format(query=query))
        return 0
    lines: list[str] = []
    for hit in results.hits:
        lines.append(
            _("{id}  {type:<14} rev {revision:<3} {title}").format(
                id=hit.record_id, type=type_name(hit.type), revision=hit.revision, title=hit.title
            )
        )
        snippet = " ".join(highlight(hit.snippet, "[", "]").split())
        if snippet:
            lines.append(f"    … {snippet}")
    lines.append(ngettext("{n} record found.", "{n} records found.", total).format(n=total))
    emit(args, data, lines)
    return 0


def cmd_audit_verify(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        report = AuditService(vault).verify(full=getattr(args, "full", False))
    own = report.own
    data = {
        "ok": report.ok,
        "entries": own.count,
        "versions_checked": own.versions_checked,
        "checkpoint_seq": own.checkpoint_seq,
        "problems": [{"seq": p.seq, "reason": p.reason} for p in own.problems],
        "devices": {
            device: {
                "ok": r.ok,
                "entries": r.count,
                "problems": [{"seq": p.seq, "reason": p.reason} for p in r.problems],
            }
            for device, r in report.foreign.items()
        },
    }
    lines: list[str] = []
    if own.ok:
        lines.append(
            _("The audit log is intact: {entries}, chain unbroken; {versions}.").format(
                entries=ngettext("{n} entry", "{n} entries", own.count).format(n=own.count),
                versions=ngettext(
                    "{n} saved record version matches its entry",
                    "{n} saved record versions match their entries",
                    own.versions_checked,
                ).format(n=own.versions_checked),
            )
        )
        if own.checkpoint_seq is not None:
            lines.append(
                _(
                    "Entries 1 to {seq} were proven unchanged since the last signed checkpoint; "
                    "what came after was checked in full."
                ).format(seq=own.checkpoint_seq)
            )
    else:
        lines.append(
            ngettext(
                "The audit log is NOT intact: {n} problem found.",
                "The audit log is NOT intact: {n} problems found.",
                len(own.problems),
            ).format(n=len(own.problems))
        )
        for problem in own.problems:
            where = _("entry {seq}").format(seq=problem.seq) if problem.seq else _("records")
            lines.append(f"  {where}: {problem.reason}")
    for device, foreign in report.foreign.items():
        state = _("intact") if foreign.ok else _("NOT intact")
        lines.append(
            ngettext(
                "Device {device}: {entries} received entry, {state}.",
                "Device {device}: {entries} received entries, {state}.",
                foreign.count,
            ).format(device=device, entries=foreign.count, state=state)
        )
        for problem in foreign.problems:
            lines.append(f"  {_('entry {seq}').format(seq=problem.seq)}: {problem.reason}")
    if getattr(args, "json", False):
        emit(args, data, lines)
    else:
        stream = sys.stdout if report.ok else sys.stderr
        for line in lines:
            print(line, file=stream)
    return 0 if report.ok else 1


def cmd_audit_log(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        service = AuditService(vault)
        entries = service.entries_for(args.id) if args.id else service.recent(args.limit)
    data = {"ok": True, "entries": [e.to_doc() for e in entries]}
    lines = [
        f"{e.seq:>6}  {when_text(e.at)}  {e.action:<18} {e.target_type} {e.target_id}"
        + (f" rev {e.revision}" if e.revision is not None else "")
        for e in entries
    ]
    emit(args, data, lines or [_("The audit log is empty.")])
    return 0
