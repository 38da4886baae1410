"""A case (HURIDOCS Event) with its acts, involvements, disappearance and political-prisoner
blocks, legal proceedings and interventions (records.md §1).

The fields mirror the form template ``resources/forms/case.json`` (version 1);
``tests/unit/test_domain_models.py`` checks that every template field exists here and back.
Choice fields hold vocabulary codes; references hold record ids.
"""

from __future__ import annotations

from typing import ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from fieldkit.domain.common import PreciseDate


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RelatedCase(_Model):
    """Related cases."""

    case: UUID = Field(description="Case")
    link_type: str = Field(description="Link")
    remarks: str | None = Field(default=None, description="Remarks")


class Involvement(_Model):
    """Perpetrators involved."""

    perpetrator: UUID | None = Field(
        default=None, description="Perpetrator (person, unit or group)"
    )
    description: str | None = Field(default=None, description="Description if unidentified")
    degree: str = Field(description="Degree of involvement")
    perpetrator_types: list[str] = Field(default_factory=list, description="Type of perpetrator")
    latest_status: str | None = Field(default=None, description="Latest status")
    remarks: str | None = Field(default=None, description="Remarks (basis for the attribution)")


class Act(_Model):
    """Acts (one victim each)."""

    victim: UUID = Field(description="Victim")
    act_type: str = Field(description="Type of act")
    initial_date: PreciseDate | None = Field(default=None, description="Initial date")
    final_date: PreciseDate | None = Field(default=None, description="Final date")
    exact_location: str | None = Field(default=None, description="Exact location")
    end_location: str | None = Field(default=None, description="Location at the end of the act")
    place_type: str | None = Field(default=None, description="Type of place of detention, if any")
    facility: UUID | None = Field(default=None, description="Facility")
    stated_reason: str | None = Field(default=None, description="Reason stated by the perpetrators")
    methods: list[str] = Field(default_factory=list, description="Methods of ill-treatment")
    physical_consequences: str | None = Field(default=None, description="Physical consequences")
    psychological_consequences: str | None = Field(
        default=None, description="Psychological consequences"
    )
    age_at_time: int | None = Field(default=None, description="Age at the time")
    status_at_end: str | None = Field(default=None, description="Status at the end of the act")
    national_legislation: str | None = Field(
        default=None, description="National legislation (articles)"
    )
    detention_type: str | None = Field(default=None, description="Type of detention")
    detention_conditions: str | None = Field(default=None, description="Conditions of detention")
    whereabouts: list[str] = Field(
        default_factory=list, description="Whereabouts and outside contact"
    )
    legal_counsel: list[str] = Field(default_factory=list, description="Legal counsel")
    court_case_number: str | None = Field(default=None, description="Court case number")
    statements_signed: list[str] = Field(default_factory=list, description="Statements signed")
    medical_attention: list[str] = Field(default_factory=list, description="Medical attention")
    intent: list[str] = Field(default_factory=list, description="Apparent intent")
    autopsy_results: str | None = Field(default=None, description="Autopsy results")
    death_certificate: str | None = Field(default=None, description="Death certificate")
    involvements: list[Involvement] = Field(
        default_factory=list, description="Perpetrators involved"
    )


class SearchAction(_Model):
    """Actions taken to locate the person."""

    date: PreciseDate | None = Field(default=None, description="Date")
    body: str = Field(description="Body addressed")
    action: str = Field(description="Action (inquiry, habeas corpus…)")
    result: str | None = Field(default=None, description="Result")


class WgeidSubmission(_Model):
    """Submissions to the UN WGEID."""

    date: PreciseDate = Field(description="Date")
    reference: str | None = Field(default=None, description="WGEID reference")


class CriterionAssessment(_Model):
    """Criterion a: detention in violation of a fundamental ECHR guarantee."""

    result: str | None = Field(default=None, description="Assessment")
    reasoning: str | None = Field(default=None, description="Reasoning")


class Recognition(_Model):
    """External recognitions."""

    body: str = Field(description="Body")
    date: PreciseDate | None = Field(default=None, description="Date")
    reference: str | None = Field(default=None, description="Reference")


class Charge(_Model):
    """An article: code, article, part."""

    code: str = Field(description="Code")
    article: str = Field(description="Article")
    part: str | None = Field(default=None, description="Part")


class InvestigationComplaint(_Model):
    """A complaint to an investigating authority."""

    body: str = Field(description="Body")
    filed_on: PreciseDate | None = Field(default=None, description="Filed on")
    erdr_number: str | None = Field(default=None, description="ERDR number")
    erdr_date: PreciseDate | None = Field(default=None, description="Date entered in the ERDR")
    outcome: str | None = Field(default=None, description="Outcome")
    notes: str | None = Field(default=None, description="Notes")


class DomesticRemedy(_Model):
    """A domestic remedy used."""

    remedy: str = Field(description="Remedy")
    court: str | None = Field(default=None, description="Court or body")
    instance: str | None = Field(default=None, description="Instance")
    decision_date: PreciseDate | None = Field(default=None, description="Decision date")
    decision: str | None = Field(default=None, description="Decision")


class Rule39Request(_Model):
    """A Rule 39 request."""

    requested_on: PreciseDate = Field(description="Requested on")
    subject: str | None = Field(default=None, description="What was asked")
    outcome: str | None = Field(default=None, description="Outcome")
    reference: str | None = Field(default=None, description="Application number")


class OtherProcedure(_Model):
    """Another international procedure."""

    body: str = Field(description="Body")
    submitted_on: PreciseDate | None = Field(default=None, description="Submitted on")
    reference: str | None = Field(default=None, description="Reference")
    status: str | None = Field(default=None, description="Status")


class LegalProceeding(_Model):
    """Proceedings."""

    case_number: str | None = Field(
        default=None, description="Criminal or administrative case number"
    )
    articles: str | None = Field(default=None, description="Articles charged or convicted")
    charges: list[Charge] = Field(
        default_factory=list, description="Articles (code, article, part)"
    )
    court: str | None = Field(default=None, description="Court")
    instance: str | None = Field(default=None, description="Instance")
    decision_date: PreciseDate | None = Field(default=None, description="Date of the last decision")
    stage: str | None = Field(default=None, description="Stage")
    preventive_measure: str | None = Field(default=None, description="Preventive measure")
    sentence: str | None = Field(default=None, description="Sentence")
    next_hearing: PreciseDate | None = Field(default=None, description="Next hearing")
    notes: str | None = Field(default=None, description="Notes")


class Intervention(_Model):
    """Interventions."""

    intervention_type: str = Field(description="Type of intervention")
    intervening_party: UUID | None = Field(default=None, description="Intervening party")
    intervening_party_name: str | None = Field(default=None, description="Intervening organisation")
    date: PreciseDate | None = Field(default=None, description="Date")
    parties_requested: str | None = Field(default=None, description="Addressed to")
    reference: str | None = Field(
        default=None, description="Reference (application or communication number)"
    )
    response: str | None = Field(default=None, description="Response")
    impact: str | None = Field(default=None, description="Impact on the situation")
    status: str | None = Field(default=None, description="Status")
    priority: str | None = Field(default=None, description="Priority")
    remarks: str | None = Field(default=None, description="Remarks")


class Case(_Model):
    """Case."""

    TEMPLATE_ID: ClassVar[str] = "case"

    # Case
    title: str = Field(description="Title")
    case_type: str = Field(description="Case type")
    initial_date: PreciseDate | None = Field(default=None, description="Initial date")
    final_date: PreciseDate | None = Field(default=None, description="Final date")
    country: str | None = Field(default=None, description="Country")
    country_code: str | None = Field(default=None, description="Country (ISO 3166)")
    territory_control: str | None = Field(default=None, description="Control of the territory")
    oblast: str | None = Field(default=None, description="Region (oblast)")
    local_area: str | None = Field(default=None, description="District or community")
    location_description: str | None = Field(default=None, description="Place")
    description: str | None = Field(default=None, description="Description")
    impact: str | None = Field(default=None, description="Impact of the events")
    violation_status: str | None = Field(default=None, description="Violation status")
    violation_index: list[str] = Field(default_factory=list, description="Types of violations")
    rights_affected: list[str] = Field(default_factory=list, description="Rights affected")
    monitoring_status: str = Field(description="Monitoring status")
    related_cases: list[RelatedCase] = Field(default_factory=list, description="Related cases")
    # Management
    date_received: PreciseDate | None = Field(default=None, description="Date received")
    project: str | None = Field(default=None, description="Project")
    comments: str | None = Field(default=None, description="Comments")
    # Acts
    acts: list[Act] = Field(default_factory=list, description="Acts (one victim each)")
    # Enforced disappearance
    ed_missing_person: UUID | None = Field(default=None, description="Missing person")
    ed_identity_data: str | None = Field(
        default=None, description="Identification data (document number, photograph reference)"
    )
    ed_date: PreciseDate | None = Field(default=None, description="Date of disappearance")
    ed_place: str | None = Field(
        default=None, description="Place of arrest, abduction or where last seen"
    )
    ed_perpetrators: str | None = Field(
        default=None, description="Persons believed to have carried out the arrest or abduction"
    )
    ed_current_status: str | None = Field(default=None, description="Current status")
    ed_submitter: UUID | None = Field(default=None, description="Person or organisation reporting")
    ed_submitter_confidential: bool | None = Field(
        default=None, description="Keep the reporter's identity confidential"
    )
    ed_search_actions: list[SearchAction] = Field(
        default_factory=list, description="Actions taken to locate the person"
    )
    ed_wgeid_submissions: list[WgeidSubmission] = Field(
        default_factory=list, description="Submissions to the UN WGEID"
    )
    # Political-prisoner assessment (PACE Resolution 1900)
    pp_person: UUID | None = Field(default=None, description="Person assessed")
    pp_liberty_status: str | None = Field(default=None, description="Deprived of liberty now")
    pp_criterion_a: CriterionAssessment | None = Field(
        default=None,
        description=("Criterion a: detention in violation of a fundamental ECHR guarantee"),
    )
    pp_criterion_b: CriterionAssessment | None = Field(
        default=None,
        description=(
            "Criterion b: detention for purely political reasons, without connection to any offence"
        ),
    )
    pp_criterion_c: CriterionAssessment | None = Field(
        default=None,
        description=(
            "Criterion c: length or conditions clearly out of proportion, for political motives"
        ),
    )
    pp_criterion_d: CriterionAssessment | None = Field(
        default=None, description="Criterion d: discriminatory detention, for political motives"
    )
    pp_criterion_e: CriterionAssessment | None = Field(
        default=None,
        description=("Criterion e: clearly unfair proceedings connected with political motives"),
    )
    pp_excl_violence: bool | None = Field(
        default=None, description="Exclusion: used or advocated violence"
    )
    pp_excl_violence_notes: str | None = Field(default=None, description="Notes on violence")
    pp_excl_terrorism: bool | None = Field(
        default=None, description="Exclusion: terrorism conviction after a fair trial"
    )
    pp_excl_terrorism_notes: str | None = Field(
        default=None, description="Notes on terrorism charges"
    )
    pp_category: str | None = Field(default=None, description="Category")
    pp_status: str | None = Field(default=None, description="Assessment status")
    pp_assessed_by: str | None = Field(default=None, description="Assessed by")
    pp_assessed_on: PreciseDate | None = Field(default=None, description="Date of assessment")
    pp_recognitions: list[Recognition] = Field(
        default_factory=list, description="External recognitions"
    )
    # Legal proceedings
    proceedings: list[LegalProceeding] = Field(default_factory=list, description="Proceedings")
    # Interventions
    interventions: list[Intervention] = Field(default_factory=list, description="Interventions")
    # Litigation
    respondent_state: str | None = Field(default=None, description="Respondent State")
    articles_relied_on: list[str] = Field(default_factory=list, description="Articles relied on")
    investigation_complaints: list[InvestigationComplaint] = Field(
        default_factory=list, description="Complaints to the investigating authorities"
    )
    domestic_remedies: list[DomesticRemedy] = Field(
        default_factory=list, description="Domestic remedies used"
    )
    final_decision_date: PreciseDate | None = Field(
        default=None, description="Final domestic decision"
    )
    final_decision_served: PreciseDate | None = Field(
        default=None, description="Final decision served on"
    )
    echr_deadline: str | None = Field(default=None, description="Last day to apply to the ECtHR")
    rule39_requests: list[Rule39Request] = Field(default_factory=list, description="Rule 39")
    other_procedures: list[OtherProcedure] = Field(
        default_factory=list, description="Other international procedures"
    )
