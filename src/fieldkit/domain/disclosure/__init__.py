"""One disclosure policy for every output: audience × consent × sensitivity × confidentiality.

See ``docs/disclosure.md`` for the rules as a user reads them and for this API.
"""

from fieldkit.domain.disclosure.audiences import (
    AUDIENCE_LABELS,
    RULES,
    Audience,
    AudienceRule,
    audience_label,
    parse_audience,
    rule_for,
)
from fieldkit.domain.disclosure.fields import field_facts, field_role
from fieldkit.domain.disclosure.policy import (
    ACTION_RANK,
    CODE_MARK,
    MEDIA_SCOPES,
    WITHHELD_MARK,
    Action,
    ConcernedPerson,
    Decision,
    DisclosurePolicy,
    FieldFacts,
    FieldRole,
    MediaKind,
    Reason,
    Subject,
    scope_label,
)
from fieldkit.domain.disclosure.redaction import HiddenPerson, Redactor, redactor_for

__all__ = [
    "ACTION_RANK",
    "AUDIENCE_LABELS",
    "CODE_MARK",
    "MEDIA_SCOPES",
    "RULES",
    "WITHHELD_MARK",
    "Action",
    "Audience",
    "AudienceRule",
    "ConcernedPerson",
    "Decision",
    "DisclosurePolicy",
    "FieldFacts",
    "FieldRole",
    "HiddenPerson",
    "MediaKind",
    "Reason",
    "Redactor",
    "Subject",
    "audience_label",
    "field_facts",
    "field_role",
    "parse_audience",
    "redactor_for",
    "rule_for",
    "scope_label",
]
