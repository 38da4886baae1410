"""The disclosure policy: decisions per audience, consent and sensitivity, and the redactor."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fieldkit.domain.common import ConsentRecord, ConsentStatus
from fieldkit.domain.disclosure import (
    ACTION_RANK,
    RULES,
    Action,
    Audience,
    ConcernedPerson,
    DisclosurePolicy,
    FieldFacts,
    FieldRole,
    MediaKind,
    Subject,
    field_facts,
    parse_audience,
    redactor_for,
)
from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.domain.forms import load_template
from fieldkit.i18n import get_translator

OUTSIDE = [a for a in Audience if a != Audience.ORGANISATION]
ALL_SCOPES = sorted(
    {s for rule in RULES.values() for s in rule.scopes}
    | {"photographs", "injury_photographs", "audio_recording", "video_recording"}
    | {"publication_with_name"}
)
PLAIN = FieldFacts()
SENSITIVE = FieldFacts(tags=frozenset({"SENS"}))
IDENTIFYING = FieldFacts(tags=frozenset({"ID"}))
RESTRICTED = FieldFacts(tags=frozenset({"R"}))
PROSE = FieldFacts(free_text=True)
CODE = FieldFacts(role=FieldRole.CODE)
FOLLOW_UP = FieldFacts(role=FieldRole.FOLLOW_UP)
QUALITY = FieldFacts(role=FieldRole.QUALITY)
ALL_FACTS = [PLAIN, SENSITIVE, IDENTIFYING, RESTRICTED, PROSE, CODE, FOLLOW_UP, QUALITY]


def person(**statuses: str) -> ConcernedPerson:
    return ConcernedPerson(
        "p1",
        codes=("CANARYCODE-A1",),
        names=("CANARYNAME-Q7 CANARYSURNAME-Z3",),
        statuses={k: ConsentStatus(v) for k, v in statuses.items()},
    )


def test_organisation_gets_everything_without_consent() -> None:
    policy = DisclosurePolicy(Audience.ORGANISATION)
    subject = Subject((person(),), confidential=True)
    for facts in (PLAIN, SENSITIVE, RESTRICTED, CODE, FOLLOW_UP, QUALITY):
        assert policy.field(subject, facts).action == Action.INCLUDE
    assert policy.evidence(subject, MediaKind.INJURY_PHOTO).included


@pytest.mark.parametrize("audience", OUTSIDE)
def test_no_consent_recorded_means_withhold_for_every_outside_audience(audience: Audience) -> None:
    policy = DisclosurePolicy(audience, names=True)
    subject = Subject((person(),))
    assert policy.record(subject).withheld
    for facts in ALL_FACTS:
        assert policy.field(subject, facts).withheld
    for kind in MediaKind:
        assert policy.evidence(subject, kind).withheld
    reason = policy.record(subject).reason.text(get_translator("en"))
    assert "no consent recorded" in reason or "not identified" in reason


@pytest.mark.parametrize("audience", OUTSIDE)
def test_the_audience_scope_lets_plain_material_through(audience: Audience) -> None:
    scope = RULES[audience].scopes[0]
    policy = DisclosurePolicy(audience)
    subject = Subject((person(**{scope: "granted"}),))
    assert policy.field(subject, PLAIN).included
    assert policy.field(subject, SENSITIVE).included
    prose = policy.field(subject, PROSE)
    assert prose.action == Action.REDACT
    assert prose.replacement == ("[CODE]" if RULES[audience].codes else "[withheld]")
    assert policy.field(subject, IDENTIFYING).withheld  # names not requested
    assert policy.field(subject, QUALITY).withheld
    assert policy.field(subject, FOLLOW_UP).withheld == (audience != Audience.COUNSEL)


def test_facility_never_sees_codes_restricted_or_confidential() -> None:
    policy = DisclosurePolicy(Audience.FACILITY)
    granted = person(transmit_to_administration="granted")
    assert policy.field(Subject((granted,)), CODE).withheld
    assert policy.field(Subject((granted,)), RESTRICTED).withheld
    assert policy.record(Subject((granted,), confidential=True)).withheld
    assert policy.code(granted).withheld
    text = policy.field(Subject((granted,)), CODE).reason.text(get_translator("uk"))
    assert "адміністрац" in text


def test_withdrawn_consent_counts_as_declined_and_says_so() -> None:
    record = ConsentRecord.model_validate(
        {
            "scopes": [{"scope": "share_partners", "status": "granted"}],
            "withdrawals": [
                {"date": {"value": "2026-11-20", "precision": "exact"}, "scope": "share_partners"}
            ],
        }
    )
    p = ConcernedPerson.from_consents("p1", [record], codes=["D-204"])
    assert p.status("share_partners") == ConsentStatus.DECLINED
    decision = DisclosurePolicy(Audience.PARTNER).record(Subject((p,)))
    assert decision.withheld
    assert decision.reason.text(get_translator("en")) == (
        "consent withdrawn: Sharing with partner NGOs and coalitions"
    )
    assert DisclosurePolicy(Audience.PARTNER).blocking(p) is not None


def test_a_decline_in_any_interview_wins() -> None:
    granted = ConsentRecord.model_validate(
        {"scopes": [{"scope": "share_prosecution", "status": "granted"}]}
    )
    declined = ConsentRecord.model_validate(
        {"scopes": [{"scope": "share_prosecution", "status": "declined"}]}
    )
    p = ConcernedPerson.from_consents("p1", [granted, declined])
    assert p.status("share_prosecution") == ConsentStatus.DECLINED


def test_conditional_consent_is_not_a_grant() -> None:
    p = person(share_international="conditional")
    decision = DisclosurePolicy(Audience.INTERNATIONAL).record(Subject((p,)))
    assert decision.withheld
    assert "conditions" in decision.reason.text(get_translator("en"))


def test_names_need_request_and_publication_consent() -> None:
    with_name = person(share_international="granted", publication_with_name="granted")
    without = person(share_international="granted")
    assert DisclosurePolicy(Audience.INTERNATIONAL, names=True).name(with_name).included
    assert DisclosurePolicy(Audience.INTERNATIONAL, names=False).name(with_name).withheld
    assert DisclosurePolicy(Audience.INTERNATIONAL, names=True).name(without).withheld
    # A consent to publication does not open an audience the person did not consent to.
    assert DisclosurePolicy(Audience.PARTNER, names=True).name(with_name).withheld


def test_injury_photographs_need_their_own_consent() -> None:
    p = person(share_international="granted", photographs="granted")
    policy = DisclosurePolicy(Audience.INTERNATIONAL)
    assert policy.evidence(Subject((p,)), MediaKind.PHOTO).included
    assert policy.evidence(Subject((p,)), MediaKind.INJURY_PHOTO).withheld
    assert policy.evidence(Subject((p,)), MediaKind.OTHER).included
    declined = person(injury_photographs="declined")
    assert (
        DisclosurePolicy(Audience.ORGANISATION)
        .evidence(Subject((declined,)), MediaKind.INJURY_PHOTO)
        .withheld
    )
    # An injury photograph tied to nobody has no consent behind it.
    assert policy.evidence(Subject(()), MediaKind.INJURY_PHOTO).withheld
    assert policy.evidence(Subject(()), MediaKind.PHOTO).included


def test_blocking_only_on_a_decline_of_every_scope_the_audience_needs() -> None:
    facility = DisclosurePolicy(Audience.FACILITY)
    assert facility.blocking(person(transmit_to_administration="declined")) is not None
    assert facility.blocking(person()) is None
    assert DisclosurePolicy(Audience.ORGANISATION).blocking(person()) is None
    counsel = DisclosurePolicy(Audience.COUNSEL)
    assert counsel.blocking(person(share_prosecution="declined")) is None
    assert (
        counsel.blocking(person(share_prosecution="declined", share_international="declined"))
        is not None
    )


def test_parse_audience_accepts_codes_and_visit_levels() -> None:
    assert parse_audience("to_ministry") == Audience.AUTHORITY
    assert parse_audience("Counsel") == Audience.COUNSEL
    with pytest.raises(FieldkitError) as caught:
        parse_audience("newspaper")
    assert caught.value.code == ErrorCode.UNKNOWN_AUDIENCE
    assert "organisation" in caught.value.message()


def test_field_facts_from_the_templates() -> None:
    visit = load_template("visit")
    group = visit.field("interviewees")
    assert field_facts("visit", group).role == FieldRole.CODE
    subs = {f.id: f for f in group.fields or []}
    assert field_facts("visit", subs["next_check"], group).role == FieldRole.FOLLOW_UP
    assert field_facts("visit", visit.field("allegation_records")).role == FieldRole.CODE
    assert field_facts("visit", visit.field("recommendations")).role == FieldRole.PLAIN
    assert field_facts("visit", visit.field("findings")).free_text
    interview = load_template("interview")
    assert field_facts("interview", interview.field("narrative")).free_text
    assert not field_facts("interview", interview.field("witnesses")).free_text
    assert field_facts("interview", interview.field("reprisal_watch")).role == FieldRole.FOLLOW_UP
    rec = load_template("recommendation")
    assert field_facts("recommendation", rec.field("smart_specific")).role == FieldRole.QUALITY


def test_redactor_replaces_inflected_names_and_hidden_codes() -> None:
    p = ConcernedPerson("p1", codes=("D-204",), names=("Петренко Олександр",), statuses={})
    internal = redactor_for(DisclosurePolicy(Audience.ORGANISATION), [p], "[приховано]")
    assert internal("Олександра Петренка побили; D-204 скаржився") == (
        "[D-204] побили; D-204 скаржився"
    )
    facility = redactor_for(DisclosurePolicy(Audience.FACILITY), [p], "[приховано]")
    assert facility("Олександром (D-204) і d-204") == "[приховано] ([приховано]) і [приховано]"
    shown = ConcernedPerson(
        "p2",
        codes=("W-031",),
        names=("Мар'яна",),
        statuses={"publication_with_name": ConsentStatus.GRANTED},
    )
    named = redactor_for(DisclosurePolicy(Audience.ORGANISATION, names=True), [p, shown], "[x]")
    assert named("Мар'яна бачила Петренка") == "Мар'яна бачила [D-204]"


# --- narrower consent never discloses more ----------------------------------------------------

_STEPS = [ConsentStatus.GRANTED, ConsentStatus.CONDITIONAL, None, ConsentStatus.DECLINED]
consent_states = st.dictionaries(st.sampled_from(ALL_SCOPES), st.sampled_from(_STEPS))


def _concerned(
    state: dict[str, ConsentStatus | None], withdrawn: frozenset[str]
) -> ConcernedPerson:
    statuses = {k: v for k, v in state.items() if v is not None}
    return ConcernedPerson(
        "p",
        codes=("C-1",),
        names=("CANARYNAME",),
        statuses=statuses,
        withdrawn=frozenset(s for s in withdrawn if statuses.get(s) == ConsentStatus.DECLINED),
    )


def _disclosed(policy: DisclosurePolicy, subject: Subject) -> list[int]:
    ranks = [ACTION_RANK[policy.record(subject).action]]
    ranks += [ACTION_RANK[policy.field(subject, facts).action] for facts in ALL_FACTS]
    ranks += [ACTION_RANK[policy.evidence(subject, kind).action] for kind in MediaKind]
    ranks += [int(policy.blocking(p) is None) for p in subject.persons]
    ranks += [int(policy.name(p).included) for p in subject.persons]
    return ranks


@given(
    state=consent_states,
    scope=st.sampled_from(ALL_SCOPES),
    withdrawn=st.frozensets(st.sampled_from(ALL_SCOPES)),
    other=consent_states,
    confidential=st.booleans(),
    names=st.booleans(),
)
def test_narrower_consent_never_discloses_more(
    state: dict[str, ConsentStatus | None],
    scope: str,
    withdrawn: frozenset[str],
    other: dict[str, ConsentStatus | None],
    confidential: bool,
    names: bool,
) -> None:
    step = _STEPS.index(state.get(scope))
    if step == len(_STEPS) - 1:
        return
    narrower = {**state, scope: _STEPS[step + 1]}
    second = _concerned(other, frozenset())
    wide = Subject((_concerned(state, withdrawn), second), confidential)
    narrow = Subject((_concerned(narrower, withdrawn), second), confidential)
    for audience in Audience:
        policy = DisclosurePolicy(audience, names=names)
        before, after = _disclosed(policy, wide), _disclosed(policy, narrow)
        assert all(a <= b for a, b in zip(after, before, strict=True)), (audience, scope)


@given(state=consent_states, confidential=st.booleans())
def test_an_outside_audience_never_gets_more_than_the_organisation(
    state: dict[str, ConsentStatus | None], confidential: bool
) -> None:
    subject = Subject((_concerned(state, frozenset()),), confidential)
    inside = _disclosed(DisclosurePolicy(Audience.ORGANISATION, names=True), subject)
    for audience in OUTSIDE:
        outside = _disclosed(DisclosurePolicy(audience, names=True), subject)
        assert all(a <= b for a, b in zip(outside, inside, strict=True)), audience
