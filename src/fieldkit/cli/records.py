"""Record commands: `case`, `record`, `search` and `audit`."""

from __future__ import annotations

import argparse
import json
import os
import stat
import sys
from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from fieldkit import i18n
from fieldkit.cli.common import emit, open_vault
from fieldkit.domain.errors import (
    ErrorCode,
    FieldkitError,
    RecordValidationError,
    TranslatableText,
    ValidationIssue,
)
from fieldkit.domain.forms import (
    FieldDef,
    FieldType,
    FormTemplate,
    children,
    load_template,
    template_ids,
)
from fieldkit.domain.formulas import FORMULAS, describe_computed
from fieldkit.domain.living_space import FORMULA_NAMES as LIVING_SPACE_WORDS
from fieldkit.domain.oserrors import NOT_REGULAR_FILE, os_reason
from fieldkit.domain.records import RECORD_TYPE_NAMES
from fieldkit.domain.vocabularies import load_vocabulary
from fieldkit.i18n import N_, _, ngettext
from fieldkit.services.audit import AuditService
from fieldkit.services.records import (
    CaseService,
    LinkView,
    RecordFilters,
    RecordService,
    RecordSummary,
    RecordVersionView,
    RecordView,
)
from fieldkit.services.search import SearchService, highlight

MAX_JSON_FILE_BYTES = 16 * 1024 * 1024
MAX_PAGE = 1000

# The reasons Python's JSON parser gives, in words a person can act on (translated when shown).
JSON_REASONS = {
    "Expecting value": N_("a value is missing or is not valid JSON"),
    "Expecting property name enclosed in double quotes": N_(
        "a field name in double quotes is expected (is there a comma too many?)"
    ),
    "Expecting ',' delimiter": N_("a comma is missing"),
    "Expecting ':' delimiter": N_("a colon is missing after a field name"),
    "Unterminated string starting at": N_("a text in quotes is not closed"),
    "Invalid control character at": N_("a line break or control character inside quotes"),
    "Extra data": N_("there is more after the end of the JSON document"),
    "Invalid \\escape": N_("an invalid backslash escape"),
    "Invalid \\uXXXX escape": N_("an invalid \\u escape"),
}
DATE_PRECISIONS = {
    "estimated": N_("estimated"),
    "day_unknown": N_("day unknown"),
    "month_unknown": N_("month unknown"),
}
UNITS = {"min": N_("min"), "h": N_("h"), "m": N_("m"), "cm": N_("cm"), "m²": N_("m²")}


def register(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    _register_case(subparsers, parents)
    _register_record(subparsers, parents)
    _register_search(subparsers, parents)
    _register_audit(subparsers, parents)


# --- parsers -----------------------------------------------------------------------------------


def _whole_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            _("'{value}' is not a whole number").format(value=text[:40])
        ) from None


def _offset_value(text: str) -> int:
    value = _whole_number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(_("must be 0 or more (got {value})").format(value=value))
    return value


def _limit_value(text: str) -> int:
    value = _whole_number(text)
    if not 1 <= value <= MAX_PAGE:
        raise argparse.ArgumentTypeError(
            _("must be between 1 and {most} (got {value})").format(most=MAX_PAGE, value=value)
        )
    return value


def _revision_value(text: str) -> int:
    value = _whole_number(text)
    if value < 1:
        raise argparse.ArgumentTypeError(
            _("a revision is 1 or more (got {value}); see it with: fieldkit record show ID").format(
                value=value
            )
        )
    return value


def _checked_date(text: str) -> str:
    value = text.strip()
    try:
        if len(value) == 10:
            return date.fromisoformat(value).isoformat()
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(
        _("'{value}' is not a date like 2026-03-14 (YYYY-MM-DD)").format(value=text[:40])
    )


def _add_paging(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--limit",
        type=_limit_value,
        default=50,
        metavar="N",
        help=_("how many to show, 1 to {most} (default 50)").format(most=MAX_PAGE),
    )
    parser.add_argument(
        "--offset",
        type=_offset_value,
        default=0,
        metavar="N",
        help=_("how many to skip first (default 0)"),
    )


def _add_filters(parser: argparse.ArgumentParser, with_form: bool = True) -> None:
    if with_form:
        parser.add_argument(
            "--form", action="append", metavar="TYPE", help=_("only this record type (repeatable)")
        )
    parser.add_argument("--facility", metavar="ID", help=_("only records about this facility"))
    parser.add_argument(
        "--status", metavar="CODE", help=_("only records with this status (a vocabulary code)")
    )
    parser.add_argument(
        "--from",
        dest="date_from",
        type=_checked_date,
        metavar="YYYY-MM-DD",
        help=_("only records on or after this date"),
    )
    parser.add_argument(
        "--to",
        dest="date_to",
        type=_checked_date,
        metavar="YYYY-MM-DD",
        help=_("only records on or before this date"),
    )


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
    _add_paging(lst)
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
        type=_revision_value,
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
        type=_revision_value,
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
    _add_filters(lst)
    _add_paging(lst)
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
    _add_filters(search)
    _add_paging(search)
    search.set_defaults(handler=cmd_search)


def _register_audit(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    audit = subparsers.add_parser("audit", parents=parents, help=_("check the audit log"))
    sub = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    verify = sub.add_parser(
        "verify",
        parents=parents,
        help=_("verify the hash chain of the audit log and every saved record version"),
    )
    verify.set_defaults(handler=cmd_audit_verify)
    log = sub.add_parser("log", parents=parents, help=_("show audit entries"))
    log.add_argument("id", nargs="?", help=_("only entries about this record"))
    log.add_argument(
        "--limit",
        type=_limit_value,
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


def read_json_file(path: Path) -> Any:
    """A JSON document from a file; JSON_INVALID names the file and where it breaks."""
    try:
        with path.open("rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise FieldkitError(
                    ErrorCode.FILE_NOT_READABLE,
                    path=str(path),
                    reason=TranslatableText(NOT_REGULAR_FILE),
                )
            raw = handle.read(MAX_JSON_FILE_BYTES + 1)
    except OSError as exc:
        raise FieldkitError(
            ErrorCode.FILE_NOT_READABLE, path=str(path), reason=os_reason(exc)
        ) from exc
    if len(raw) > MAX_JSON_FILE_BYTES:
        raise FieldkitError(
            ErrorCode.JSON_INVALID,
            path=str(path),
            reason=_("larger than {size} MiB").format(size=MAX_JSON_FILE_BYTES // 2**20),
        )
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FieldkitError(
            ErrorCode.JSON_INVALID,
            path=str(path),
            reason=_("not UTF-8 text (byte {pos})").format(pos=exc.start),
        ) from None

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in items:
            if key in result:
                raise ValueError(_('the key "{key}" appears twice').format(key=key[:60]))
            result[key] = value
        return result

    def constant(name: str) -> Any:
        raise ValueError(_("{name} is not allowed").format(name=name))

    try:
        return json.loads(text, object_pairs_hook=pairs, parse_constant=constant)
    except json.JSONDecodeError as exc:
        raise FieldkitError(
            ErrorCode.JSON_INVALID,
            path=str(path),
            reason=_("line {line}, column {column}: {problem}").format(
                line=exc.lineno, column=exc.colno, problem=_json_reason(exc.msg)
            ),
        ) from None
    except RecursionError:
        raise FieldkitError(
            ErrorCode.JSON_INVALID, path=str(path), reason=_("it is nested too deeply")
        ) from None
    except ValueError as exc:
        raise FieldkitError(ErrorCode.JSON_INVALID, path=str(path), reason=str(exc)[:200]) from None


def _json_reason(message: str) -> str:
    """The parser's English reason as a short translated one (unknown reasons stay as they are)."""
    for known, reason in JSON_REASONS.items():
        if message.startswith(known):
            return _(reason)
    return message


def _read_form_data(path: Path) -> dict[str, Any]:
    data = read_json_file(path)
    if not isinstance(data, dict):
        raise FieldkitError(
            ErrorCode.JSON_INVALID,
            path=str(path),
            reason=_("the file must hold one JSON object with the form's fields"),
        )
    return data


def _report_invalid(args: argparse.Namespace, exc: RecordValidationError) -> int:
    translator = i18n.current()
    issues = [
        {"field": issue.field, "reason": translator.gettext(issue.reason)} for issue in exc.issues
    ]
    if getattr(args, "json", False):
        error = exc.to_dict(translator)
        error["issues"] = issues
        print(json.dumps({"ok": False, "error": error}, ensure_ascii=False, indent=2))
    count = len(issues)
    print(
        "fieldkit: "
        + ngettext(
            "The data is not valid ({n} problem); nothing was saved:",
            "The data is not valid ({n} problems); nothing was saved:",
            count,
        ).format(n=count),
        file=sys.stderr,
    )
    for issue in issues:
        print(f"  {issue['field']}: {issue['reason']}", file=sys.stderr)
    return 1


def _record_doc(record: RecordView, *, with_data: bool = True) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": record.id,
        "type": record.type,
        "title": record.title,
        "revision": record.revision,
        "template_id": record.template_id,
        "template_version": record.template_version,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
        "origin_device": record.origin_device,
        "confidential": record.confidential,
        "deleted": record.deleted,
        "status": record.status,
        "facility_id": record.facility_id,
        "date_from": record.date_from,
        "date_to": record.date_to,
        "content_hash": record.content_hash,
    }
    if with_data:
        doc["data"] = dict(record.data)
    return doc


def _version_doc(version: RecordVersionView) -> dict[str, Any]:
    return {
        "revision": version.revision,
        "content_hash": version.content_hash,
        "deleted": version.deleted,
        "saved_at": version.saved_at,
        "saved_by_device": version.saved_by_device,
        "origin": version.origin,
        "in_conflict": version.in_conflict,
        "document": version.doc,
    }


def _link_doc(link: LinkView) -> dict[str, Any]:
    return {
        "from": link.from_id,
        "to": link.to_id,
        "kind": link.kind,
        "role": link.role,
        "source": link.source,
    }


def _when(stamp: str) -> str:
    """A stored UTC time shortened for people: 2026-11-21 12:15 UTC."""
    return f"{stamp[:10]} {stamp[11:16]} UTC" if len(stamp) >= 16 else stamp


def _title(record: RecordView) -> str:
    return record.title or _("(no title)")


def _type_name(record_type: str) -> str:
    return _(RECORD_TYPE_NAMES.get(record_type, record_type))


def _summary_line(record: RecordView | RecordSummary) -> str:
    flags = ""
    if record.confidential:
        flags += " " + _("[confidential]")
    if record.deleted:
        flags += " " + _("[deleted]")
    return _("{id}  {type:<14} rev {revision:<3} {updated}  {title}{flags}").format(
        id=record.id,
        type=_type_name(record.type),
        revision=record.revision,
        updated=_when(record.updated_at),
        title=record.title or _("(no title)"),
        flags=flags,
    )


def _yes_no(value: bool) -> str:
    return _("yes") if value else _("no")


def _number(value: float | int, unit: str | None) -> str:
    """A number as written in the current language (4.5 / 4,5), at most two decimals, no
    grouping (a number may be a year or a code), with its unit translated."""
    if isinstance(value, float):
        from babel.numbers import format_decimal

        text = format_decimal(round(value, 2), format="0.##", locale=i18n.current().language)
    else:
        text = str(value)
    if not unit:
        return text
    unit_text = _(UNITS[unit]) if unit in UNITS else unit
    return f"{text} {unit_text}"


_RECORD_REFS = (FieldType.PERSON_REF, FieldType.FACILITY_REF, FieldType.RECORD_REF)


class _Show:
    """A record's data as labelled lines in the current language (template labels, vocabulary
    labels with their codes in brackets, computed values in place)."""

    def __init__(
        self,
        language: str,
        computed: Mapping[str, Any],
        records: Mapping[str, RecordSummary] | None = None,
    ) -> None:
        self.language = language
        self.computed = computed
        self.records = records or {}

    def ref(self, record_id: Any) -> str:
        """A referenced record's id with its title (a person's is the pseudonym code)."""
        found = self.records.get(record_id) if isinstance(record_id, str) else None
        if found is None:
            return str(record_id)
        text = f"{record_id} ({found.title or _('(no title)')})"
        return text + " " + _("[deleted]") if found.deleted else text

    def term(self, vocabulary: str | None, code: Any) -> str:
        if not isinstance(code, str) or not vocabulary:
            return str(code)
        try:
            found = load_vocabulary(vocabulary).get(code)
        except FieldkitError:
            found = None
        return f"{found.label(self.language)} ({code})" if found is not None else code

    def value(self, f: FieldDef | None, value: Any) -> str:
        if isinstance(value, bool):
            return _yes_no(value)
        if f is not None and f.type == FieldType.CHOICE:
            return self.term(f.vocabulary, value)
        if f is not None and f.type == FieldType.MULTICHOICE and isinstance(value, list):
            return ", ".join(self.term(f.vocabulary, v) for v in value)
        if f is not None and f.type in _RECORD_REFS:
            return ", ".join(self.ref(v) for v in (value if isinstance(value, list) else [value]))
        if isinstance(value, Mapping) and "value" in value and set(value) <= {"value", "precision"}:
            precision = value.get("precision")
            shown = str(value["value"])
            if isinstance(precision, str) and precision in DATE_PRECISIONS:
                shown += f" ({_(DATE_PRECISIONS[precision])})"
            return shown
        if isinstance(value, int | float) and not isinstance(value, bool):
            return _number(value, f.unit if f is not None else None)
        if isinstance(value, list):
            return ", ".join(str(v) for v in value)
        return str(value)

    def computed_value(
        self, f: FieldDef, value: Any, scope: Mapping[str, Any] | None = None
    ) -> str:
        if value is None:
            return "—"
        if isinstance(value, bool):
            return _yes_no(value)
        formula = FORMULAS.get(f.formula or "")
        if formula is not None and formula.name in LIVING_SPACE_WORDS and scope is not None:
            inputs = {name: scope.get(source) for name, source in (f.inputs or {}).items()}
            words = describe_computed(
                formula.name, value, inputs, i18n.current(), lambda x: _number(x, None)
            )
            if words is not None:
                codes = ", ".join(value) if isinstance(value, list) else str(value)
                return f"{words[0]} ({codes})" if codes and codes != words[0] else words[0]
        if isinstance(value, int | float):
            return _number(value, f.unit)
        return str(value)

    def lines(
        self, fields: Sequence[FieldDef], data: Mapping[str, Any], indent: str, path: str
    ) -> Iterator[str]:
        known = {f.id: f for f in fields}
        for f in fields:
            here = f"{path}{f.id}"
            if f.type == FieldType.COMPUTED:
                if here in self.computed:
                    label = f.label.get(self.language)
                    shown = self.computed_value(f, self.computed[here], data)
                    yield f"{indent}{label}: {shown}"
                continue
            if f.id in data:
                yield from self.field(f, data[f.id], indent, here)
        for key, value in data.items():
            if key not in known:  # not in the template (an older or unknown form): raw key
                yield from self.field(None, value, indent, f"{path}{key}", key)

    def field(
        self, f: FieldDef | None, value: Any, indent: str, path: str, key: str = ""
    ) -> Iterator[str]:
        label = f.label.get(self.language) if f is not None else key
        sub = children(f) if f is not None else []
        if f is not None and f.type == FieldType.CONSENT and isinstance(value, Mapping):
            yield f"{indent}{label}:"
            yield from self.consent(sub, value, indent + "  ")
        elif isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            yield f"{indent}{label}:"
            for i, item in enumerate(value):
                yield f"{indent}  #{i + 1}"
                yield from self.lines(sub, item, indent + "    ", f"{path}[{i}].")
        elif isinstance(value, Mapping) and not (
            "value" in value and set(value) <= {"value", "precision"}
        ):
            yield f"{indent}{label}:"
            yield from self.lines(sub, value, indent + "  ", f"{path}.")
        else:
            text = self.value(f, value)
            lines = text.splitlines() or [""]
            yield f"{indent}{label}: {lines[0]}"
            for more in lines[1:]:
                yield f"{indent}  {more}"

    def consent(
        self, fields: Sequence[FieldDef], value: Mapping[str, Any], indent: str
    ) -> Iterator[str]:
        """One line per scope (the scopes list needs no heading of its own), then the changes."""
        by_id = {f.id: f for f in fields}
        scope_fields = {f.id: f for f in children(by_id["scopes"])} if "scopes" in by_id else {}
        for entry in value.get("scopes", []):
            if not isinstance(entry, Mapping):
                continue
            scope = self.value(scope_fields.get("scope"), entry.get("scope"))
            status = self.value(scope_fields.get("status"), entry.get("status"))
            line = f"{indent}{scope}: {status}"
            if entry.get("date") is not None:
                line += f", {self.value(scope_fields.get('date'), entry['date'])}"
            yield line
            if entry.get("conditions"):
                label = scope_fields["conditions"].label.get(self.language)
                yield f"{indent}  {label}: {entry['conditions']}"
        withdrawals = value.get("withdrawals")
        if withdrawals and "withdrawals" in by_id:
            yield from self.field(by_id["withdrawals"], withdrawals, indent, "withdrawals")


def _template_for(record: RecordView) -> FormTemplate | None:
    try:
        version = int(record.template_version) if record.template_version.isdigit() else None
        return load_template(record.template_id, version)
    except FieldkitError:
        return None


def _link_line(
    record_id: str, link: LinkView, language: str, others: Mapping[str, RecordSummary]
) -> str:
    outgoing = link.from_id == record_id
    other = link.to_id if outgoing else link.from_id
    from_type, _sep, to_type = link.kind.partition("_")
    other_type = to_type if outgoing else from_type
    what = _("evidence item") if other_type == "evidence" else _type_name(other_type)
    role = ""
    if link.role:
        try:
            found = load_vocabulary("event_roles").get(link.role)
        except FieldkitError:
            found = None
        role = f" — {found.label(language)} ({link.role})" if found else f" — {link.role}"
    arrow = "→" if outgoing else "←"
    line = f"  {arrow} {what} {other}{role}"
    target = others.get(other)
    if target is not None:
        line += f"  {target.title or _('(no title)')}"
        if target.deleted:
            line += " " + _("[deleted]")
    elif other_type != "evidence":
        line += " " + _("[not in this profile]")
    return line


def _show(args: argparse.Namespace, service: RecordService, record_id: str) -> int:
    record = service.get(record_id)
    links = service.links(record.id)
    history = service.history(record.id) if args.history else []
    computed: dict[str, Any] = {}
    warnings: list[ValidationIssue] = []
    if not record.deleted:
        try:
            computed = service.computed(record)
            warnings = service.warnings(record)
        except (FieldkitError, ValueError, TypeError, KeyError, ZeroDivisionError):
            computed = {}
    data: dict[str, Any] = {
        "ok": True,
        "record": _record_doc(record),
        "computed": computed,
        "warnings": _warning_docs(warnings),
        "links": [_link_doc(link) for link in links],
    }
    if args.history:
        data["history"] = [_version_doc(v) for v in history]
    language = i18n.current().language
    template = _template_for(record)
    template_name = template.label.get(language) if template else record.template_id
    lines = [
        _("{type} {id}").format(type=_type_name(record.type).capitalize(), id=record.id),
        _("Title:     {title}").format(title=_title(record)),
        _("Revision:  {revision}   created {created}, last saved {updated}").format(
            revision=record.revision,
            created=_when(record.created_at),
            updated=_when(record.updated_at),
        ),
        _("Template:  {name} ({template}, version {version})").format(
            name=template_name, template=record.template_id, version=record.template_version
        ),
    ]
    if record.confidential:
        lines.append(_("Confidential: yes"))
    if record.deleted:
        lines.append(_("This record was deleted; its history is kept."))
    lines.append("")
    others = service.summaries_of(
        [lk.to_id if lk.from_id == record.id else lk.from_id for lk in links]
    )
    shown = _Show(language, computed, others)
    lines.extend(shown.lines(template.fields if template else [], record.data, "  ", ""))
    if warnings:
        lines.append("")
        lines.append(_("Warnings (the record is saved; check these values):"))
        lines.extend(f"  {w.field}: {w.reason}" for w in warnings)
    if links:
        lines.append("")
        lines.append(_("Links (→ this record refers to; ← refers to this record):"))
        lines.extend(_link_line(record.id, link, language, others) for link in links)
    if args.history:
        lines.append("")
        lines.append(_("History:"))
        for version in history:
            what = _("deleted") if version.deleted else _("saved")
            extra = ""
            if version.origin == "imported":
                extra += " " + _("(received from device {device})").format(
                    device=version.saved_by_device
                )
            if version.in_conflict:
                extra += " " + _("[CONFLICT]")
            lines.append(
                _("  rev {revision:<3} {what} {when}  sha256 {hash}{extra}").format(
                    revision=version.revision,
                    what=what,
                    when=_when(version.saved_at),
                    hash=version.content_hash[:16],
                    extra=extra,
                )
            )
    emit(args, data, lines)
    return 0


def _filters(args: argparse.Namespace) -> RecordFilters:
    return RecordFilters(
        types=tuple(getattr(args, "form", None) or ()),
        facility_id=args.facility,
        status=args.status,
        date_from=args.date_from,
        date_to=args.date_to,
    )


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
    lines = [_summary_line(r) for r in records]
    lines.append(
        _("Showing {first}–{last} of {total}.").format(
            first=args.offset + 1, last=args.offset + len(records), total=total
        )
    )
    emit(args, data, lines)


def _saved_lines(record: RecordView, verb: str) -> list[str]:
    return [
        verb.format(type=_type_name(record.type), id=record.id, revision=record.revision),
        _("Title: {title}").format(title=_title(record)),
    ]


# --- handlers ----------------------------------------------------------------------------------


def cmd_case_add(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        try:
            record = CaseService(vault).add(
                args.title, confidential=args.confidential, case_type=args.case_type
            )
        except RecordValidationError as exc:
            return _report_invalid(args, exc)
        warnings = RecordService(vault).warnings(record)
    emit(
        args,
        {
            "ok": True,
            "id": record.id,
            "record": _record_doc(record),
            "warnings": _warning_docs(warnings),
        },
        _saved_lines(record, _("Created {type} {id} (revision {revision}).")),
    )
    _print_warnings(args, warnings)
    return 0


def _warning_docs(warnings: Sequence[ValidationIssue]) -> list[dict[str, str]]:
    return [{"field": w.field, "reason": w.reason} for w in warnings]


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
        return _show(args, RecordService(vault), args.id)


def cmd_record_add(args: argparse.Namespace) -> int:
    data = _read_form_data(args.file)
    with open_vault(args) as vault:
        try:
            record = RecordService(vault).add(args.form, data, confidential=args.confidential)
        except RecordValidationError as exc:
            return _report_invalid(args, exc)
        warnings = RecordService(vault).warnings(record)
    emit(
        args,
        {
            "ok": True,
            "id": record.id,
            "record": _record_doc(record),
            "warnings": _warning_docs(warnings),
        },
        _saved_lines(record, _("Created {type} {id} (revision {revision}).")),
    )
    _print_warnings(args, warnings)
    return 0


def cmd_record_update(args: argparse.Namespace) -> int:
    data = _read_form_data(args.file)
    with open_vault(args) as vault:
        try:
            record = RecordService(vault).update(
                args.id, data, args.revision, confidential=args.confidential
            )
        except RecordValidationError as exc:
            return _report_invalid(args, exc)
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
            "record": _record_doc(record),
            "warnings": _warning_docs(warnings),
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
            type=_type_name(record.type), id=record.id, revision=record.revision
        ),
    )
    return 0


def cmd_record_show(args: argparse.Namespace) -> int:
    with open_vault(args) as vault:
        return _show(args, RecordService(vault), args.id)


def cmd_record_list(args: argparse.Namespace) -> int:
    filters = _filters(args)
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
        {"ok": True, "link": _link_doc(link)},
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
    filters = _filters(args)
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
                id=hit.record_id, type=_type_name(hit.type), revision=hit.revision, title=hit.title
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
        report = AuditService(vault).verify()
    own = report.own
    data = {
        "ok": report.ok,
        "entries": own.count,
        "versions_checked": own.versions_checked,
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
            _(
                "The audit log is intact: {entries} entries, chain unbroken; "
                "{versions} saved record versions match their entries."
            ).format(entries=own.count, versions=own.versions_checked)
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
            _("Device {device}: {entries} received entries, {state}.").format(
                device=device, entries=foreign.count, state=state
            )
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
        f"{e.seq:>6}  {_when(e.at)}  {e.action:<18} {e.target_type} {e.target_id}"
        + (f" rev {e.revision}" if e.revision is not None else "")
        for e in entries
    ]
    emit(args, data, lines or [_("The audit log is empty.")])
    return 0
