"""A record's data as an audience may receive it: the policy's field decisions applied to the data
itself, for outputs that carry records instead of printing them (a lawyer's case package).

Every field passes :meth:`DisclosurePolicy.field`: a withheld field is left out (a required text
field keeps its place with the withheld mark, so the record still reads as a whole; an entry of a
list that loses another required field is left out whole), a field to redact has the hidden names
and codes replaced by ``redact``, an included group is walked field by field. The result is
validated against the form again; a record that cannot stand without what was withheld is
withheld whole (``None``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fieldkit.domain.disclosure.fields import field_facts
from fieldkit.domain.disclosure.policy import Action, DisclosurePolicy, Reason, Subject
from fieldkit.domain.errors import RecordValidationError
from fieldkit.domain.forms import TEXT_TYPES, FieldDef, FormTemplate, children
from fieldkit.domain.validation import validate_record
from fieldkit.i18n import N_

R_INCOMPLETE = N_("the record cannot be shown without the fields that are withheld")


@dataclass(frozen=True)
class WithheldPart:
    """A field left out, by its dotted path in the form (``acts.victim``), and why."""

    path: str
    reason: Reason


@dataclass(frozen=True)
class DisclosedData:
    data: dict[str, Any] | None  # None: the record is withheld whole
    withheld: tuple[WithheldPart, ...]
    reason: Reason | None = None  # why the record is withheld whole


class _Walk:
    def __init__(
        self,
        template: FormTemplate,
        subject: Subject,
        policy: DisclosurePolicy,
        redact: Callable[[str], str],
        withheld_mark: str,
    ) -> None:
        self.template = template
        self.subject = subject
        self.policy = policy
        self.redact = redact
        self.mark = withheld_mark
        self.withheld: dict[str, WithheldPart] = {}

    def fields(
        self, defs: list[FieldDef], data: Mapping[str, Any], parent: FieldDef | None, prefix: str
    ) -> tuple[dict[str, Any], bool]:
        """The kept part of ``data``; and whether a required field had to go (the caller drops
        an entry of a list that lost one)."""
        out: dict[str, Any] = {}
        lost_required = False
        known = {f.id: f for f in defs}
        for key, value in data.items():
            f = known.get(key)
            if f is None:
                continue  # not a field of this form: nothing unknown leaves
            path = f"{prefix}{f.id}"
            decision = self.policy.field(self.subject, field_facts(self.template.id, f, parent))
            if decision.action == Action.WITHHOLD:
                self.withheld.setdefault(path, WithheldPart(path, decision.reason))
                if f.required and f.type in TEXT_TYPES:
                    out[key] = self.mark
                elif f.required:
                    lost_required = True
                continue
            sub = children(f)
            if sub and isinstance(value, list):
                items = []
                for item in value:
                    if not isinstance(item, Mapping):
                        items.append(item)
                        continue
                    kept, lost = self.fields(sub, item, f, f"{path}.")
                    if not lost:
                        items.append(kept)
                out[key] = items
            elif sub and isinstance(value, Mapping):
                kept, lost = self.fields(sub, value, f, f"{path}.")
                if lost:
                    lost_required = lost_required or f.required
                else:
                    out[key] = kept
            elif decision.action == Action.REDACT and isinstance(value, str):
                out[key] = self.redact(value)
            else:
                out[key] = value
        return out, lost_required


def disclose_data(
    template: FormTemplate,
    data: Mapping[str, Any],
    subject: Subject,
    policy: DisclosurePolicy,
    *,
    redact: Callable[[str], str],
    withheld_mark: str,
) -> DisclosedData:
    """The data of a record about ``subject`` as ``policy``'s audience may have it."""
    record = policy.record(subject)
    if record.withheld:
        return DisclosedData(None, (), record.reason)
    walk = _Walk(template, subject, policy, redact, withheld_mark)
    kept, _lost = walk.fields(template.fields, data, None, "")
    try:
        normalised = validate_record(template.id, kept, template=template)
    except RecordValidationError:
        return DisclosedData(None, tuple(walk.withheld.values()), Reason(R_INCOMPLETE))
    return DisclosedData(normalised, tuple(walk.withheld.values()))
