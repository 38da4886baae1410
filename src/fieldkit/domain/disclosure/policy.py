"""The disclosure policy: may this audience have this record, field or evidence item?

Every output asks here: PDF reports, lawyer packages, exports. The answer is a :class:`Decision`:
include, redact (free text, with names replaced; the replacement is given) or withhold, always
with a :class:`Reason` a person can read in their language. The policy is pure: callers gather the
consents of the persons a thing concerns (:class:`ConcernedPerson`) and the field's sensitivity
tags; nothing here reads a database or a file other than the shipped vocabularies.

Rules, in the order they are applied (``docs/disclosure.md`` prints them as a table):

1. The organisation's own outputs include everything it holds, except media a person declined.
2. Outside audiences get a person's material only when the person granted one of the audience's
   consent scopes (``audiences.RULES``). No consent recorded means withhold, never include; a
   withdrawn consent counts as declined; a conditional consent counts as not granted (a person
   must check the conditions and record a decision).
3. Records and items marked confidential go to the organisation and counsel only.
4. Fields tagged ``R`` (perpetrators, officials) go only to audiences that may receive them.
5. Fields tagged ``ID`` (and real names) appear only when the output asks for names and every
   person concerned granted publication with name; free text is redacted instead.
6. Pseudonym codes, person references, interviewee lists and links to interview or allegation
   records go only to audiences that may see codes; reprisal follow-up and internal quality
   checks stay internal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from fieldkit.domain.common import ConsentRecord, ConsentStatus
from fieldkit.domain.disclosure.audiences import (
    AUDIENCE_LABELS,
    AUDIO_RECORDING,
    INJURY_PHOTOGRAPHS,
    PHOTOGRAPHS,
    PUBLICATION_WITH_NAME,
    VIDEO_RECORDING,
    Audience,
    AudienceRule,
    rule_for,
)
from fieldkit.domain.errors import FieldkitError, LocalisedText, Translates
from fieldkit.domain.vocabularies import load_vocabulary
from fieldkit.i18n import N_


class Action(StrEnum):
    INCLUDE = "include"
    REDACT = "redact"
    WITHHOLD = "withhold"


# How much an action discloses; a narrower consent must never raise it.
ACTION_RANK: dict[Action, int] = {Action.WITHHOLD: 0, Action.REDACT: 1, Action.INCLUDE: 2}

# Reasons (templates; ``{scope}`` is the consent scope's label, ``{audience}`` the audience's).
R_OWN_USE = N_("the organisation's own use")
R_CONSENTED = N_("the person consented to: {scope}")
R_NO_PERSON = N_("concerns no identified person")
R_NO_CONSENT = N_("no consent recorded for: {scope}")
R_DECLINED = N_("consent declined: {scope}")
R_WITHDRAWN = N_("consent withdrawn: {scope}")
R_CONDITIONAL = N_("consent given with conditions that a person must check first: {scope}")
R_CONFIDENTIAL = N_("marked confidential: for the organisation and counsel only")
R_RESTRICTED = N_("information on alleged perpetrators and officials is not given to {audience}")
R_NO_CODES = N_("persons are not identified to {audience}, not even by code")
R_FOLLOW_UP = N_("reprisal follow-up stays within the organisation")
R_QUALITY = N_("internal quality checks stay within the organisation")
R_NAMES_NOT_REQUESTED = N_("names were not requested for this output")
R_TEXT_REDACTED = N_("free text: names of persons not shown are replaced")

# What replaces a name or code that may not be shown, when the person's code may not be shown
# either (translated by the caller).
WITHHELD_MARK = N_("[withheld]")
# What a REDACT decision puts in place of a hidden name where codes may be shown: the code.
CODE_MARK = "[CODE]"


@dataclass(frozen=True)
class Reason:
    """Why a decision was made: a message template and the consent scopes it speaks of."""

    message: str
    scopes: tuple[str, ...] = ()
    audience: Audience | None = None

    def text(self, translator: Translates) -> str:
        language = str(getattr(translator, "language", "en"))
        template = translator.gettext(self.message)
        scope = " / ".join(scope_label(s, language) for s in self.scopes)
        audience = translator.gettext(AUDIENCE_LABELS[self.audience]) if self.audience else ""
        return template.format(scope=scope, audience=audience)

    def as_param(self) -> ReasonText:
        """The reason as an error parameter, shown in the language of whoever reads the error."""
        return ReasonText(self)


class ReasonText(LocalisedText):
    """A :class:`Reason` carried in a :class:`FieldkitError`."""

    reason: Reason

    def __new__(cls, reason: Reason) -> ReasonText:
        text = reason.text(_ENGLISH)
        made = super().__new__(cls, text)
        made.reason = reason
        return made

    def localise(self, translator: Translates) -> str:
        return self.reason.text(translator)


class _English:
    language = "en"

    def gettext(self, message: str) -> str:
        return message


_ENGLISH = _English()


@dataclass(frozen=True)
class Decision:
    action: Action
    reason: Reason
    # For REDACT: what stands in place of a hidden name: CODE_MARK (the person's own code, as in
    # "[D-204]") or WITHHELD_MARK (translate it with the output's translator).
    replacement: str = ""

    @property
    def included(self) -> bool:
        return self.action == Action.INCLUDE

    @property
    def withheld(self) -> bool:
        return self.action == Action.WITHHOLD

    def narrowest(self, other: Decision) -> Decision:
        return other if ACTION_RANK[other.action] < ACTION_RANK[self.action] else self


def _include(reason: str, scopes: tuple[str, ...] = ()) -> Decision:
    return Decision(Action.INCLUDE, Reason(reason, scopes))


def _withhold(
    reason: str, scopes: tuple[str, ...] = (), audience: Audience | None = None
) -> Decision:
    return Decision(Action.WITHHOLD, Reason(reason, scopes, audience))


def scope_label(scope: str, language: str) -> str:
    try:
        return load_vocabulary("consent_scopes").label(scope, language)
    except (FieldkitError, KeyError):
        return scope


# --- the persons a thing concerns --------------------------------------------------------------


@dataclass(frozen=True)
class ConcernedPerson:
    """A person an output mentions, with their consent decisions as they stand now.

    ``codes``: the person's pseudonym codes (the first is shown); ``names``: every real name the
    person is known by (the redactor replaces them in free text); ``statuses``: the effective
    decision per consent scope, withdrawals applied; a scope not in it was never recorded;
    ``withdrawn``: scopes whose present decision comes from a withdrawal.
    """

    person_id: str
    codes: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    statuses: Mapping[str, ConsentStatus] = field(default_factory=dict)
    withdrawn: frozenset[str] = frozenset()

    @property
    def code(self) -> str:
        return self.codes[0] if self.codes else ""

    def status(self, scope: str) -> ConsentStatus | None:
        return self.statuses.get(scope)

    @classmethod
    def from_consents(
        cls,
        person_id: str,
        records: Iterable[ConsentRecord],
        *,
        codes: Sequence[str] = (),
        names: Sequence[str] = (),
    ) -> ConcernedPerson:
        """Combine the consent records of all of a person's interviews: a decline or withdrawal
        anywhere wins, then a conditional consent, then a grant."""
        statuses: dict[str, ConsentStatus] = {}
        withdrawn: set[str] = set()
        for record in records:
            scopes = {e.scope for e in record.scopes} | {w.scope for w in record.withdrawals}
            for scope in scopes:
                status = record.effective_status(scope)
                if status is None:
                    continue
                if any(w.scope == scope for w in record.withdrawals) and (
                    status == ConsentStatus.DECLINED
                ):
                    withdrawn.add(scope)
                statuses[scope] = _narrower(statuses.get(scope), status)
        return cls(
            person_id=person_id,
            codes=tuple(c for c in dict.fromkeys(codes) if c),
            names=tuple(n for n in dict.fromkeys(names) if n),
            statuses=statuses,
            withdrawn=frozenset(s for s in withdrawn if statuses.get(s) == ConsentStatus.DECLINED),
        )


_STATUS_ORDER = {ConsentStatus.DECLINED: 0, ConsentStatus.CONDITIONAL: 1, ConsentStatus.GRANTED: 2}


def _narrower(first: ConsentStatus | None, second: ConsentStatus) -> ConsentStatus:
    if first is None:
        return second
    return first if _STATUS_ORDER[first] <= _STATUS_ORDER[second] else second


@dataclass(frozen=True)
class Subject:
    """What a record, field or item concerns: its persons and its confidentiality flag."""

    persons: tuple[ConcernedPerson, ...] = ()
    confidential: bool = False


class FieldRole(StrEnum):
    PLAIN = "plain"
    CODE = "code"  # pseudonym codes, person references, interviewee lists, links to interviews
    FOLLOW_UP = "follow_up"  # reprisal flags, next-check dates, follow-up plans
    QUALITY = "quality"  # internal quality checks (SMART)


@dataclass(frozen=True)
class FieldFacts:
    """What the policy needs to know about a field: its tags, role and kind of content."""

    tags: frozenset[str] = frozenset()
    role: FieldRole = FieldRole.PLAIN
    free_text: bool = False  # entered prose: printed with hidden names replaced


class MediaKind(StrEnum):
    PHOTO = "photo"
    INJURY_PHOTO = "injury_photo"
    AUDIO = "audio"
    VIDEO = "video"
    OTHER = "other"


MEDIA_SCOPES: dict[MediaKind, str] = {
    MediaKind.PHOTO: PHOTOGRAPHS,
    MediaKind.INJURY_PHOTO: INJURY_PHOTOGRAPHS,
    MediaKind.AUDIO: AUDIO_RECORDING,
    MediaKind.VIDEO: VIDEO_RECORDING,
}


# --- the policy --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DisclosurePolicy:
    """The decisions for one output addressed to ``audience``; ``names``: real names asked for."""

    audience: Audience
    names: bool = False

    @property
    def rule(self) -> AudienceRule:
        return rule_for(self.audience)

    @property
    def outside(self) -> bool:
        return self.rule.outside

    @property
    def shows_codes(self) -> bool:
        return self.rule.codes

    @property
    def shows_follow_up(self) -> bool:
        return self.rule.follow_up

    @property
    def shows_quality_checks(self) -> bool:
        return self.rule.quality

    # persons

    def person(self, person: ConcernedPerson) -> Decision:
        """May the audience receive anything about this person?"""
        if not self.outside:
            return _include(R_OWN_USE)
        return self._scope_decision(person, self.rule.scopes)

    def _scope_decision(self, person: ConcernedPerson, scopes: tuple[str, ...]) -> Decision:
        """Include when any of ``scopes`` is granted; else the clearest reason why not."""
        found = [(scope, person.status(scope)) for scope in scopes]
        granted = [scope for scope, status in found if status == ConsentStatus.GRANTED]
        if granted:
            return _include(R_CONSENTED, (granted[0],))
        conditional = tuple(s for s, status in found if status == ConsentStatus.CONDITIONAL)
        if conditional:
            return _withhold(R_CONDITIONAL, conditional)
        if all(status is None for _s, status in found):
            return _withhold(R_NO_CONSENT, scopes)
        declined = tuple(s for s, status in found if status == ConsentStatus.DECLINED)
        if all(s in person.withdrawn for s in declined):
            return _withhold(R_WITHDRAWN, declined)
        return _withhold(R_DECLINED, declined)

    def name(self, person: ConcernedPerson) -> Decision:
        """May the person's real name (and fields tagged ID) appear?"""
        if not self.names:
            return _withhold(R_NAMES_NOT_REQUESTED)
        allowed = self.person(person)
        if allowed.withheld:
            return allowed
        return self._scope_decision(person, (PUBLICATION_WITH_NAME,))

    def code(self, person: ConcernedPerson | None = None) -> Decision:
        """May the person's pseudonym code appear?"""
        if not self.shows_codes:
            return _withhold(R_NO_CODES, audience=self.audience)
        return _include(R_OWN_USE if not self.outside else R_NO_PERSON)

    def blocking(self, person: ConcernedPerson) -> Reason | None:
        """Why no output at all may go to this audience because of this person, if so.

        An output built from an interview whose person declined (or withdrew) every scope the
        audience needs is not written for that audience: free text written from the interview
        may identify the person even without names or codes.
        """
        if not self.outside:
            return None
        scopes = self.rule.scopes
        statuses = [person.status(s) for s in scopes]
        if statuses and all(s == ConsentStatus.DECLINED for s in statuses):
            withdrawn = all(s in person.withdrawn for s in scopes)
            return Reason(R_WITHDRAWN if withdrawn else R_DECLINED, scopes)
        return None

    def replacement(self, person: ConcernedPerson, withheld_mark: str) -> str:
        """What stands in free text for a name that is not shown."""
        if self.code(person).included and person.code:
            return f"[{person.code}]"
        return withheld_mark

    # records, fields, items

    def record(self, subject: Subject) -> Decision:
        """May the audience receive this record (or this part of an output) at all?"""
        if subject.confidential and not self.rule.confidential:
            return _withhold(R_CONFIDENTIAL)
        decision = _include(R_OWN_USE if not self.outside else R_NO_PERSON)
        for person in subject.persons:
            decision = decision.narrowest(self.person(person))
            if decision.withheld:
                return decision
        return decision

    def field(self, subject: Subject, facts: FieldFacts) -> Decision:
        """May this field of a record about ``subject`` appear, and how?"""
        rule = self.rule
        if facts.role == FieldRole.QUALITY and not rule.quality:
            return _withhold(R_QUALITY)
        if facts.role == FieldRole.FOLLOW_UP and not rule.follow_up:
            return _withhold(R_FOLLOW_UP)
        if facts.role == FieldRole.CODE and not rule.codes:
            return _withhold(R_NO_CODES, audience=self.audience)
        decision = self.record(subject)
        if decision.withheld:
            return decision
        if "R" in facts.tags and not rule.restricted:
            return _withhold(R_RESTRICTED, audience=self.audience)
        if facts.free_text:
            mark = CODE_MARK if rule.codes else WITHHELD_MARK
            return Decision(Action.REDACT, Reason(R_TEXT_REDACTED), replacement=mark)
        if "ID" in facts.tags:
            if not subject.persons:
                if not self.names:
                    return _withhold(R_NAMES_NOT_REQUESTED)
                return (
                    _include(R_OWN_USE)
                    if not self.outside
                    else _withhold(R_NO_CONSENT, (PUBLICATION_WITH_NAME,))
                )
            for person in subject.persons:
                decision = decision.narrowest(self.name(person))
                if decision.withheld:
                    return decision
        return decision

    def evidence(self, subject: Subject, kind: MediaKind) -> Decision:
        """May this evidence item (its file and its description) go to the audience?"""
        decision = self.record(subject)
        if decision.withheld:
            return decision
        scope = MEDIA_SCOPES.get(kind)
        if scope is None:
            return decision
        if not subject.persons:
            if kind == MediaKind.INJURY_PHOTO and self.outside:
                return _withhold(R_NO_CONSENT, (scope,))
            return decision
        for person in subject.persons:
            if self.outside:
                media = self._scope_decision(person, (scope,))
            elif person.status(scope) == ConsentStatus.DECLINED:
                reason = R_WITHDRAWN if scope in person.withdrawn else R_DECLINED
                media = _withhold(reason, (scope,))
            else:
                continue
            decision = decision.narrowest(media)
            if decision.withheld:
                return decision
        return decision
