"""What the policy needs to know about a form field: its tags, its role, whether it is prose.

The form templates tag fields ``ID``, ``SENS`` and ``R``. Roles the tags do not say are read from
the field's type (person references, pseudonym codes, links to interview or allegation records)
and from a short table of fields whose purpose is internal (reprisal follow-up, quality checks).
"""

from __future__ import annotations

from fieldkit.domain.disclosure.policy import FieldFacts, FieldRole
from fieldkit.domain.forms import FieldDef, FieldType

# Record types a link to which points at a person's account.
_PERSON_RECORD_TYPES = frozenset({"interview", "case", "person"})

# (template id, dotted field path) → role, for what the field's type does not tell.
_ROLES: dict[tuple[str, str], FieldRole] = {
    ("visit", "interviewees"): FieldRole.CODE,
    ("visit", "interviewees.reprisal_follow_up"): FieldRole.FOLLOW_UP,
    ("visit", "interviewees.next_check"): FieldRole.FOLLOW_UP,
    ("interview", "reprisal_watch"): FieldRole.FOLLOW_UP,
    ("interview", "follow_up"): FieldRole.FOLLOW_UP,
}

# Accounts tagged ID that are printed with names replaced rather than withheld: they are the
# substance of a case.
_PROSE_ACCOUNTS = frozenset({("interview", "narrative"), ("case", "description")})


def field_role(template_id: str, path: str, f: FieldDef) -> FieldRole:
    known = _ROLES.get((template_id, path))
    if known is not None:
        return known
    leaf = path.rsplit(".", 1)[-1]
    if leaf.startswith("smart_"):
        return FieldRole.QUALITY
    if "reprisal" in leaf or leaf in ("next_check", "next_contact"):
        return FieldRole.FOLLOW_UP
    if f.type == FieldType.PERSON_REF:
        return FieldRole.CODE
    if f.type == FieldType.TEXT and f.format == "code":
        return FieldRole.CODE
    if f.type == FieldType.RECORD_REF and _PERSON_RECORD_TYPES & set(f.targets or ()):
        return FieldRole.CODE
    return FieldRole.PLAIN


def field_facts(
    template_id: str, f: FieldDef, parent: FieldDef | None = None, path: str = ""
) -> FieldFacts:
    """The facts of field ``f`` (a sub-field of ``parent`` when given) of a ``template_id`` form.

    A sub-field carries its group's tags too. ``path`` defaults to ``parent.id + "." + f.id``.
    """
    tags = {str(t) for t in f.sensitivity}
    if parent is not None:
        tags |= {str(t) for t in parent.sensitivity}
    path = path or (f"{parent.id}.{f.id}" if parent is not None else f.id)
    role = field_role(template_id, path, f)
    if f.type == FieldType.PERSON_REF:
        # A reference prints as the person's code, or their name where the policy allows it for
        # that person: the name decision is made when the reference is printed.
        tags.discard("ID")
    prose = f.type in (FieldType.TEXT, FieldType.LONGTEXT) and role == FieldRole.PLAIN
    if "ID" in tags and (template_id, path) not in _PROSE_ACCOUNTS:
        prose = False
    return FieldFacts(tags=frozenset(tags), role=role, free_text=prose)
