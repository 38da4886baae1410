"""A victim's or witness's account: setting, consent per scope, risk, narrative, injuries,
referrals (records.md §3).

The fields mirror the form template ``resources/forms/interview.json`` (version 1);
``tests/unit/test_domain_models.py`` checks that every template field exists here and back.
Choice fields hold vocabulary codes; references hold record ids.
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from fieldkit.domain.common import ConsentRecord, InjuryMark, PreciseDate


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Interpreter(_Model):
    """Interpreter."""

    name_or_code: str = Field(description="Name or code")
    languages: list[str] = Field(default_factory=list, description="Languages")
    affiliation: str | None = Field(default=None, description="Affiliation")
    community_relationship: str | None = Field(
        default=None, description="Relationship to the interviewee's community"
    )
    confidentiality_signed: bool | None = Field(
        default=None, description="Confidentiality undertaking signed"
    )


class PersonPresent(_Model):
    """Other persons present."""

    role: str = Field(description="Role")
    name_or_code: str | None = Field(default=None, description="Name or code")


class RiskAssessment(_Model):
    """Risk assessment."""

    risk: str = Field(description="Risk")
    likelihood: str = Field(description="Likelihood")
    mitigation: str | None = Field(default=None, description="Mitigation")


class PriorStatement(_Model):
    """Prior interviews or statements."""

    to_whom: str = Field(description="To whom")
    date: PreciseDate | None = Field(default=None, description="When")
    recorded: bool | None = Field(default=None, description="Recorded")


class DetentionPlace(_Model):
    """Places and conditions of detention."""

    place: str = Field(description="Place")
    facility: UUID | None = Field(default=None, description="Facility")
    date_from: PreciseDate | None = Field(default=None, description="From")
    date_to: PreciseDate | None = Field(default=None, description="To")
    conditions: str | None = Field(default=None, description="Conditions and daily routine")


class IllTreatmentEpisode(_Model):
    date: PreciseDate | None = Field(default=None, description="Date of the episode")
    time: dt.time | None = Field(default=None, description="Time")
    facility: UUID | None = Field(default=None, description="Place of detention (facility record)")
    place: str | None = Field(default=None, description="Place (room, vehicle, other)")
    """Episodes of ill-treatment."""

    description: str = Field(description="What happened")
    methods: list[str] = Field(default_factory=list, description="Methods")
    objects_used: str | None = Field(default=None, description="Weapons or objects used")
    duration_frequency: str | None = Field(default=None, description="How long, how often")
    perpetrators: str | None = Field(default=None, description="By whom")
    demands: str | None = Field(default=None, description="Questions asked or demands made")
    statements_signed: list[str] = Field(default_factory=list, description="Statements signed")


class MedicalDocument(_Model):
    """Medical documentation."""

    document_type: str = Field(description="Type")
    date: PreciseDate | None = Field(default=None, description="Date")
    issued_by: str | None = Field(default=None, description="Issued by")
    reference: str | None = Field(default=None, description="Number or reference")
    findings: str | None = Field(default=None, description="What it records")
    evidence: list[UUID] = Field(default_factory=list, description="Copy in the evidence store")


class Referral(_Model):
    """Referrals."""

    organisation: str = Field(description="To organisation")
    date: PreciseDate | None = Field(default=None, description="Date")
    consent: bool = Field(description="Person consented")
    outcome: str | None = Field(default=None, description="Outcome")


class FollowUpContact(_Model):
    """Follow-up plan."""

    next_contact: PreciseDate = Field(description="Next contact or visit")
    reprisal_check: bool | None = Field(default=None, description="Check for reprisals")
    notes: str | None = Field(default=None, description="Notes")


class Interview(_Model):
    """Interview."""

    TEMPLATE_ID: ClassVar[str] = "interview"

    # Setting and participants
    interviewee_code: str = Field(description="Interviewee code")
    interviewee: UUID | None = Field(default=None, description="Interviewee")
    connection: str = Field(description="Connection to the events")
    cases: list[UUID] = Field(default_factory=list, description="Linked cases")
    visit: UUID | None = Field(
        default=None, description="Visit during which the interview took place"
    )
    interview_date: PreciseDate = Field(description="Date")
    start_time: dt.time | None = Field(default=None, description="Start time")
    end_time: dt.time | None = Field(default=None, description="End time")
    breaks: str | None = Field(default=None, description="Breaks")
    location_type: str = Field(description="Location")
    location_detail: str | None = Field(default=None, description="Location detail")
    mode: str = Field(description="Mode")
    recording: list[str] = Field(default_factory=list, description="Recorded by")
    interviewers: str | None = Field(default=None, description="Interviewers")
    interviewer_sex: str | None = Field(default=None, description="Interviewer's sex")
    sex_choice_offered: bool | None = Field(default=None, description="Choice of sex offered")
    support_person_present: bool | None = Field(default=None, description="Support person present")
    languages: list[str] = Field(default_factory=list, description="Languages of the interview")
    in_custody: bool | None = Field(default=None, description="Interviewee in custody at the time")
    interpreter_present: bool | None = Field(default=None, description="Interpreter present")
    interpreter: Interpreter | None = Field(default=None, description="Interpreter")
    interpreter_sex: str | None = Field(default=None, description="Interpreter's sex")
    others_present: list[PersonPresent] = Field(
        default_factory=list, description="Other persons present"
    )
    staff_could_see_hear: bool | None = Field(
        default=None, description="Staff or officials could see or hear"
    )
    # Informed consent
    explained_purpose: bool = Field(description="Purpose explained")
    explained_role: bool | None = Field(default=None, description="Interviewer's role explained")
    explained_use: bool = Field(description="How the information will be used explained")
    explained_access: bool | None = Field(default=None, description="Who may see it explained")
    explained_limits: bool | None = Field(
        default=None, description="Limits of confidentiality explained"
    )
    explained_right_to_stop: bool = Field(description="Right to refuse, pause or stop explained")
    explained_consequences: bool | None = Field(
        default=None,
        description=("Possible consequences explained (e.g. being called as a witness)"),
    )
    consent: ConsentRecord = Field(description="Consent per scope")
    capacity_notes: str | None = Field(
        default=None, description=("Capacity to consent (child, psychosocial disability, sedation)")
    )
    guardian: UUID | None = Field(default=None, description="Guardian or representative")
    consent_form: str = Field(description="How consent was recorded")
    consent_obtained_by: str | None = Field(default=None, description="Consent obtained by")
    transmit_authorised: bool | None = Field(
        default=None, description="Authorised transmission of the allegation to authorities"
    )
    transmit_to: str | None = Field(default=None, description="To whom")
    # Do no harm and risk
    risks: list[RiskAssessment] = Field(default_factory=list, description="Risk assessment")
    fears: str | None = Field(
        default=None, description="Fears that the information could be used against the person"
    )
    prior_statements: list[PriorStatement] = Field(
        default_factory=list, description="Prior interviews or statements"
    )
    distress_notes: str | None = Field(
        default=None, description="Distress observed, breaks, support offered"
    )
    # Account
    narrative: str = Field(description="Narrative in the person's own words")
    background: str | None = Field(
        default=None, description="Background and circumstances leading to detention"
    )
    arrest: str | None = Field(
        default=None, description="Arrest or apprehension (when, where, who, stated reason)"
    )
    detention_places: list[DetentionPlace] = Field(
        default_factory=list, description="Places and conditions of detention"
    )
    ill_treatment: list[IllTreatmentEpisode] = Field(
        default_factory=list, description="Episodes of ill-treatment"
    )
    sexual_violence_disclosed: bool | None = Field(
        default=None, description="Sexual violence disclosed"
    )
    sexual_violence: str | None = Field(default=None, description="Sexual violence (restricted)")
    perpetrators: str | None = Field(
        default=None, description="Perpetrators (names, call-signs, ranks, units, descriptions)"
    )
    witnesses: str | None = Field(default=None, description="Witnesses")
    medical_attention: list[str] = Field(default_factory=list, description="Medical attention")
    complaints: str | None = Field(
        default=None, description="Complaints made and official response"
    )
    part_of_pattern: bool | None = Field(
        default=None, description="Appears to be part of a pattern"
    )
    # Injuries
    injuries: list[InjuryMark] = Field(
        default_factory=list, description="Injuries on the body diagram"
    )
    injury_notes: str | None = Field(default=None, description="Symptoms and observations")
    protocol_departures: str | None = Field(
        default=None, description="Departures from the Istanbul Protocol"
    )
    # Medical and psychological evaluation (Istanbul Protocol)
    ip_examiner_type: str | None = Field(default=None, description="Who examined the person")
    ip_examiner_code: str | None = Field(default=None, description="Examiner (code)")
    ip_examiner_qualification: str | None = Field(default=None, description="Qualification")
    ip_overall_opinion: str | None = Field(default=None, description="Overall opinion")
    ip_opinion_reasoning: str | None = Field(default=None, description="Reasoning")
    acute_symptoms: str | None = Field(default=None, description="Acute symptoms")
    chronic_symptoms: str | None = Field(default=None, description="Chronic symptoms")
    medical_history: str | None = Field(default=None, description="Medical history")
    psych_symptoms: str | None = Field(default=None, description="Psychological symptoms")
    psych_functioning: str | None = Field(default=None, description="Daily functioning")
    psych_impressions: str | None = Field(default=None, description="Clinical impressions")
    medical_documents: list[MedicalDocument] = Field(
        default_factory=list, description="Medical documentation"
    )
    # Assessment, referral and follow-up
    reliability_information: str | None = Field(
        default=None, description="Reliability of the information"
    )
    reliability_source: str | None = Field(default=None, description="Reliability of the source")
    consistency_notes: str | None = Field(
        default=None, description="Consistency (internal and external)"
    )
    needs: list[str] = Field(default_factory=list, description="Needs identified")
    referrals: list[Referral] = Field(default_factory=list, description="Referrals")
    reprisal_watch: bool | None = Field(default=None, description="On the reprisal follow-up list")
    follow_up: list[FollowUpContact] = Field(default_factory=list, description="Follow-up plan")
    reviewed_by: str | None = Field(default=None, description="Reviewed by")
    reviewed_on: PreciseDate | None = Field(default=None, description="Review date")
