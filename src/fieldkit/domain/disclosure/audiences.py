"""Who an output is for, and what each audience may receive in principle.

An audience is the reader of an output: the organisation itself, a named lawyer, the facility's
administration, and so on. Each maps to the consent scopes (vocabulary ``consent_scopes``) that let
a person's material reach it, and to the kinds of content it may receive at all. The table is the
one ``docs/disclosure.md`` prints for users; keep the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.i18n import N_, Translator


class Audience(StrEnum):
    ORGANISATION = "organisation"
    COUNSEL = "counsel"
    FACILITY = "facility"
    AUTHORITY = "authority"
    PROSECUTION = "prosecution"
    INTERNATIONAL = "international"
    PARTNER = "partner"
    PUBLIC = "public"


AUDIENCE_LABELS: dict[Audience, str] = {
    Audience.ORGANISATION: N_("the organisation itself"),
    Audience.COUNSEL: N_("a named lawyer (counsel)"),
    Audience.FACILITY: N_("the facility administration"),
    Audience.AUTHORITY: N_("the ministry or another authority"),
    Audience.PROSECUTION: N_("national prosecution"),
    Audience.INTERNATIONAL: N_("international bodies (UN treaty bodies, ECtHR, ICC)"),
    Audience.PARTNER: N_("a partner organisation"),
    Audience.PUBLIC: N_("the public"),
}


@dataclass(frozen=True)
class AudienceRule:
    """What an audience may receive.

    ``scopes``: a person's material reaches the audience when the person granted any one of these
    consent scopes (empty: no consent is needed, the organisation's own use). ``codes``: pseudonym
    codes, person references, interviewee lists and links to interview or allegation records may be
    shown. ``restricted``: fields tagged R (perpetrators, officials). ``confidential``: records and
    items marked confidential. ``follow_up``: reprisal flags, next-check dates, follow-up plans.
    ``quality``: the internal quality checks (SMART).
    """

    scopes: tuple[str, ...]
    codes: bool
    restricted: bool
    confidential: bool
    follow_up: bool
    quality: bool

    @property
    def outside(self) -> bool:
        return bool(self.scopes)


RULES: dict[Audience, AudienceRule] = {
    Audience.ORGANISATION: AudienceRule((), True, True, True, True, True),
    Audience.COUNSEL: AudienceRule(
        ("share_international", "share_prosecution"), True, True, True, True, False
    ),
    Audience.FACILITY: AudienceRule(
        ("transmit_to_administration",), False, False, False, False, False
    ),
    Audience.AUTHORITY: AudienceRule(
        ("transmit_to_administration",), False, False, False, False, False
    ),
    Audience.PROSECUTION: AudienceRule(("share_prosecution",), True, True, False, False, False),
    Audience.INTERNATIONAL: AudienceRule(("share_international",), True, True, False, False, False),
    Audience.PARTNER: AudienceRule(("share_partners",), True, False, False, False, False),
    Audience.PUBLIC: AudienceRule(("anonymised_reports",), False, False, False, False, False),
}

# Consent scopes for kinds of media: an item of that kind about a person leaves only with it.
PHOTOGRAPHS = "photographs"
INJURY_PHOTOGRAPHS = "injury_photographs"
AUDIO_RECORDING = "audio_recording"
VIDEO_RECORDING = "video_recording"
PUBLICATION_WITH_NAME = "publication_with_name"

# The visit form's "report confidentiality" levels (vocabulary report_confidentiality).
REPORT_CONFIDENTIALITY_AUDIENCES: dict[str, Audience] = {
    "internal": Audience.ORGANISATION,
    "to_facility": Audience.FACILITY,
    "to_ministry": Audience.AUTHORITY,
    "public": Audience.PUBLIC,
}


def rule_for(audience: Audience) -> AudienceRule:
    return RULES[audience]


def audience_label(audience: Audience, translator: Translator) -> str:
    return translator.gettext(AUDIENCE_LABELS[audience])


def parse_audience(value: str) -> Audience:
    """An audience from its code (``facility``) or a visit's confidentiality level
    (``to_facility``); a clear error names the choices otherwise."""
    text = value.strip().lower()
    if text in REPORT_CONFIDENTIALITY_AUDIENCES:
        return REPORT_CONFIDENTIALITY_AUDIENCES[text]
    try:
        return Audience(text)
    except ValueError:
        raise FieldkitError(
            ErrorCode.UNKNOWN_AUDIENCE,
            value=value[:40],
            choices=", ".join(a.value for a in Audience),
        ) from None
