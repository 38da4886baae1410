"""A monitoring visit, sections A–S with setting-specific blocks (records.md §5).

The fields mirror the current form template ``resources/forms/visit.json`` (records filled with
version 1 carry ``cpt_flag`` instead of the living-space values, see docs/forms.md);
``tests/unit/test_domain_models.py`` checks that every template field exists here and back.
Choice fields hold vocabulary codes; references hold record ids.
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from fieldkit.domain.common import PreciseDate


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TeamMember(_Model):
    """Team."""

    member: str = Field(description="Member (name or code)")
    role: str = Field(description="Role")
    sex: str | None = Field(default=None, description="Sex")
    languages: list[str] = Field(default_factory=list, description="Languages (interpreters)")
    certificate_number: str | None = Field(default=None, description="Monitor certificate number")


class Obstruction(_Model):
    """Obstructions."""

    type: str = Field(description="Type")
    time: dt.datetime | None = Field(default=None, description="Time")
    official: str | None = Field(default=None, description="Official (name or position)")
    description: str | None = Field(default=None, description="Description")
    resolved: bool | None = Field(default=None, description="Resolved during the visit")


class RegisterCheck(_Model):
    """Registers."""

    register_type: str = Field(description="Register")
    present: bool = Field(description="Present")
    properly_kept: bool | None = Field(default=None, description="Properly kept")
    chronological: bool | None = Field(
        default=None, description="Chronological, no deletions or later additions"
    )
    irregularities: str | None = Field(default=None, description="Irregularities")
    excerpts: list[UUID] = Field(default_factory=list, description="Excerpts photographed")


class InspectedArea(_Model):
    """Areas inspected."""

    label: str = Field(description="Area (number or name)")
    area_type: str = Field(description="Type")
    access: str | None = Field(default=None, description="Access")
    length_m: float | None = Field(default=None, description="Length")
    width_m: float | None = Field(default=None, description="Width")
    height_m: float | None = Field(default=None, description="Height")
    floor_area_m2: float | None = Field(
        default=None, description="Floor area without the sanitary annex"
    )
    sanitary_annex: bool | None = Field(default=None, description="Sanitary annex")
    annex_partitioned: bool | None = Field(default=None, description="Annex fully partitioned")
    places: int | None = Field(default=None, description="Beds or places")
    occupants: int | None = Field(default=None, description="Occupants on the day")
    area_per_person: float | None = Field(default=None, description="Floor area per person")
    cpt_minimum: str | None = Field(default=None, description="CPT minimum standard (living space)")
    cpt_minimum_reasons: list[str] | None = Field(
        default=None, description="Checks of the CPT minimum not met"
    )
    cpt_desirable: str | None = Field(default=None, description="CPT desirable standard")
    echr_space_tier: str | None = Field(
        default=None, description="Personal space under ECtHR case-law"
    )
    over_places: int | None = Field(default=None, description="Occupants above places or beds")
    vehicle_space: str | None = Field(default=None, description="Vehicle compartment (CPT)")
    natural_light: str | None = Field(default=None, description="Natural light")
    artificial_light: str | None = Field(default=None, description="Artificial light")
    lights_on_at_night: bool | None = Field(default=None, description="Lights on all night")
    ventilation: str | None = Field(default=None, description="Ventilation")
    temperature_c: float | None = Field(default=None, description="Temperature measured")
    heating: bool | None = Field(default=None, description="Heating works")
    damp: bool | None = Field(default=None, description="Damp or mould")
    toilet_in_room: bool | None = Field(default=None, description="Toilet in the room")
    toilet_working_clean: bool | None = Field(default=None, description="Toilet working and clean")
    drinking_water: bool | None = Field(default=None, description="Access to drinking water")
    hot_water: bool | None = Field(default=None, description="Hot water")
    showers_per_week: int | None = Field(default=None, description="Showers per week")
    individual_bed: bool | None = Field(default=None, description="Individual bed for everyone")
    bedding: bool | None = Field(default=None, description="Mattress and clean bedding")
    hygiene_items: bool | None = Field(default=None, description="Hygiene items provided")
    meals_per_day: int | None = Field(default=None, description="Meals per day")
    food: str | None = Field(default=None, description="Food (quantity, quality, special diets)")
    outdoor_hours: float | None = Field(default=None, description="Outdoor exercise per day")
    cctv: bool | None = Field(default=None, description="CCTV in the room")
    call_button: bool | None = Field(default=None, description="Call button")
    notes: str | None = Field(default=None, description="Notes")
    photos: list[UUID] = Field(default_factory=list, description="Photographs")


class FileCheck(_Model):
    """Files checked (by code)."""

    detainee_code: str = Field(description="Detainee code")
    legal_basis_ok: bool | None = Field(default=None, description="Legal basis in order")
    time_limit_ok: bool | None = Field(default=None, description="Time limits respected")
    notes: str | None = Field(default=None, description="Notes")


class VulnerableGroupCheck(_Model):
    """Checks per group."""

    group: str = Field(description="Group")
    separated: bool | None = Field(default=None, description="Separated as required")
    needs_met: bool | None = Field(default=None, description="Specific needs met")
    interpretation: bool | None = Field(
        default=None, description="Interpretation and consular access"
    )
    accessibility: bool | None = Field(default=None, description="Accessibility")
    notes: str | None = Field(default=None, description="Notes")


class InterviewedCode(_Model):
    """Interviewees (codes only)."""

    code: str = Field(description="Code")
    reprisal_follow_up: bool | None = Field(default=None, description="Flag for reprisal follow-up")
    next_check: PreciseDate | None = Field(default=None, description="Next check")
    check_outcome: str | None = Field(default=None, description="Outcome of the last check")
    checked_on: PreciseDate | None = Field(default=None, description="Checked on")
    reprisal_case: UUID | None = Field(default=None, description="Case opened for the reprisal")


class ThemeFinding(_Model):
    """Findings by theme."""

    theme: str = Field(description="Theme")
    not_examined: bool | None = Field(default=None, description="Not examined at this visit")
    finding: str | None = Field(default=None, description="Finding")
    areas: str | None = Field(default=None, description="Areas it rests on")
    evidence: list[UUID] = Field(default_factory=list, description="Evidence")
    recommendations: list[UUID] = Field(
        default_factory=list, description="Recommendations that follow"
    )


class Visit(_Model):
    """Visit to a place of deprivation of liberty."""

    TEMPLATE_ID: ClassVar[str] = "visit"

    # A. Visit
    reference: str = Field(description="Visit reference")
    facility: UUID = Field(description="Facility")
    facility_type: str = Field(description="Facility type")
    visit_kind: str = Field(description="Kind of visit")
    visit_mode: str = Field(description="Mode")
    announced: str | None = Field(default=None, description="Notice given")
    visit_date: PreciseDate = Field(description="Date of the visit")
    visit_date_to: PreciseDate | None = Field(default=None, description="Last day of the visit")
    arrived_at_gate: dt.datetime | None = Field(default=None, description="Arrived at the gate")
    admitted_at: dt.datetime | None = Field(default=None, description="Admitted")
    left_at: dt.datetime | None = Field(default=None, description="Left the facility")
    admission_delay_minutes: int | None = Field(default=None, description="Admission delay")
    visit_duration_minutes: int | None = Field(default=None, description="Duration of the visit")
    team: list[TeamMember] = Field(default_factory=list, description="Team")
    mandate: str | None = Field(default=None, description="Mandate")
    focus_themes: list[str] = Field(default_factory=list, description="Objectives and focus themes")
    # B. Access and cooperation
    cooperation: str | None = Field(default=None, description="Cooperation of the administration")
    obstructions: list[Obstruction] = Field(default_factory=list, description="Obstructions")
    protocol_drawn_up: bool | None = Field(
        default=None, description="Formal protocol of obstruction drawn up"
    )
    protocol_number: str | None = Field(default=None, description="Protocol number")
    # C. Population on the day
    official_capacity: int | None = Field(default=None, description="Official capacity")
    total_present: int | None = Field(default=None, description="Total present")
    occupancy_percent: float | None = Field(default=None, description="Occupancy")
    men: int | None = Field(default=None, description="Men")
    women: int | None = Field(default=None, description="Women")
    adults: int | None = Field(default=None, description="Adults")
    minors: int | None = Field(default=None, description="Under 18")
    pre_trial: int | None = Field(default=None, description="Pre-trial")
    sentenced: int | None = Field(default=None, description="Sentenced")
    administrative: int | None = Field(default=None, description="Administrative")
    other_status: int | None = Field(default=None, description="Other legal status")
    foreign_nationals: int | None = Field(default=None, description="Foreign nationals")
    with_disabilities: int | None = Field(default=None, description="Persons with disabilities")
    in_isolation: int | None = Field(
        default=None, description="In disciplinary or isolation cells now"
    )
    in_medical_unit: int | None = Field(default=None, description="In the medical unit or hospital")
    hunger_strike: int | None = Field(default=None, description="On hunger strike")
    deaths_since_last_visit: int | None = Field(
        default=None, description="Deaths since the last visit"
    )
    death_causes: str | None = Field(default=None, description="Causes of death")
    # D. Opening meeting
    head_interviewed: bool | None = Field(default=None, description="Head of facility met")
    head_position: str | None = Field(
        default=None, description="Name or position of the official met"
    )
    information_provided: str | None = Field(default=None, description="Information provided")
    documents_requested: str | None = Field(default=None, description="Documents requested")
    # E. Registers examined
    registers: list[RegisterCheck] = Field(default_factory=list, description="Registers")
    register_access: str | None = Field(default=None, description="Who has access to the registers")
    children_recorded: bool | None = Field(
        default=None,
        description=("Children of detained mothers recorded (names, ages, whereabouts)"),
    )
    # F. Material conditions
    areas: list[InspectedArea] = Field(default_factory=list, description="Areas inspected")
    # G. Regime and activities
    out_of_cell_hours: float | None = Field(
        default=None, description="Time out of the cell per day"
    )
    work: bool | None = Field(default=None, description="Work available")
    education: bool | None = Field(default=None, description="Education available")
    leisure: bool | None = Field(default=None, description="Leisure activities")
    religion: bool | None = Field(default=None, description="Religious practice possible")
    library: bool | None = Field(default=None, description="Library")
    regime_notes: str | None = Field(default=None, description="Notes on the regime")
    # H. Health care
    medical_staff: int | None = Field(default=None, description="Medical staff")
    medical_hours_per_week: int | None = Field(
        default=None, description="Medical staff hours on site per week"
    )
    admission_exam: bool | None = Field(
        default=None, description="Medical examination on admission"
    )
    admission_exam_within_hours: int | None = Field(
        default=None, description="Examination within (hours)"
    )
    injuries_recorded: bool | None = Field(
        default=None, description="Injuries on admission recorded"
    )
    injuries_reported_to: str | None = Field(default=None, description="Injuries reported to")
    confidential_consultations: bool | None = Field(
        default=None, description="Consultations out of the hearing of staff"
    )
    specialist_access: str | None = Field(
        default=None, description="Access to specialists and hospital"
    )
    medicine_availability: str | None = Field(default=None, description="Medicines")
    infectious_diseases: str | None = Field(default=None, description="TB, HIV, hepatitis")
    mental_health: str | None = Field(
        default=None, description="Mental health and suicide prevention"
    )
    deaths_in_custody: str | None = Field(
        default=None, description="Deaths in custody (causes, investigation)"
    )
    health_professional_notes: str | None = Field(
        default=None, description="Notes by the team's health professional"
    )
    # I. Treatment and security
    allegations_count: int | None = Field(
        default=None, description="Allegations of torture or ill-treatment received"
    )
    allegation_records: list[UUID] = Field(
        default_factory=list, description="Interviews and cases with allegations"
    )
    use_of_force_register: bool | None = Field(
        default=None, description="Use-of-force register kept"
    )
    use_of_force_incidents: int | None = Field(
        default=None, description="Use-of-force incidents since the last visit"
    )
    weapons_carried: str | None = Field(default=None, description="Weapons carried by staff")
    electrical_weapons: bool | None = Field(
        default=None, description="Electrical discharge weapons carried"
    )
    force_examined: bool | None = Field(
        default=None, description="Persons subjected to force are examined by a doctor"
    )
    restraints_used: list[str] = Field(default_factory=list, description="Means of restraint used")
    restraint_register: bool | None = Field(default=None, description="Restraint register kept")
    restraints_on_vulnerable: bool | None = Field(
        default=None,
        description=("Restraints used on minors, pregnant women or persons with disabilities"),
    )
    disciplinary_sanctions: str | None = Field(
        default=None, description="Disciplinary sanctions used"
    )
    informal_sanctions: bool | None = Field(
        default=None, description="Informal or collective sanctions"
    )
    appeal_possible: bool | None = Field(
        default=None, description="Appeal against sanctions possible"
    )
    isolation_count: int | None = Field(
        default=None, description="Persons isolated since the last visit"
    )
    isolation_max_days: int | None = Field(default=None, description="Longest isolation (days)")
    isolation_purposes: list[str] = Field(default_factory=list, description="Purposes of isolation")
    isolation_daily_medical: bool | None = Field(
        default=None, description="Daily medical check in isolation"
    )
    searches: str | None = Field(default=None, description="Searches (body, strip)")
    inter_detainee_violence: str | None = Field(
        default=None, description="Inter-detainee violence and informal hierarchies"
    )
    # J. Legal safeguards
    rights_information: bool | None = Field(
        default=None,
        description=("Information on rights given in writing, in a language understood"),
    )
    custody_notification: bool | None = Field(
        default=None, description="Family or third party notified of custody"
    )
    lawyer_access: bool | None = Field(
        default=None, description="Access to a lawyer from the outset, in private"
    )
    doctor_access: bool | None = Field(
        default=None, description="Access to a doctor, including of one's own choice"
    )
    judicial_control: bool | None = Field(default=None, description="Prompt court appearance")
    file_checks: list[FileCheck] = Field(
        default_factory=list, description="Files checked (by code)"
    )
    # K. Contact with the outside world
    visits_frequency: str | None = Field(default=None, description="Visits (frequency, conditions)")
    long_visits: bool | None = Field(default=None, description="Long visits possible")
    telephone: str | None = Field(default=None, description="Telephone")
    correspondence: str | None = Field(default=None, description="Correspondence")
    internet: str | None = Field(default=None, description="Internet or video calls")
    parcels: bool | None = Field(default=None, description="Parcels allowed")
    censorship: bool | None = Field(default=None, description="Correspondence censored")
    contact_notes: str | None = Field(default=None, description="Notes")
    # L. Complaints and inspection
    complaint_mechanism: bool | None = Field(default=None, description="Complaint mechanism exists")
    confidential_channel: bool | None = Field(
        default=None, description=("Confidential channel (sealed box, direct to the Ombudsperson)")
    )
    information_displayed: bool | None = Field(
        default=None, description="Information on complaints displayed"
    )
    complaints_register: bool | None = Field(default=None, description="Complaints register kept")
    complaint_outcomes: str | None = Field(default=None, description="Outcomes of complaints")
    fear_of_reprisals: int | None = Field(
        default=None, description="Interviewees who expressed fear of reprisals"
    )
    # M. Staff
    staff_on_duty: int | None = Field(default=None, description="Staff on duty")
    staff_posts: int | None = Field(default=None, description="Staff posts")
    night_staff: int | None = Field(default=None, description="Staff at night")
    women_staff: bool | None = Field(default=None, description="Women staff for women detainees")
    staff_training: str | None = Field(
        default=None, description="Training (use of force, restraints)"
    )
    staff_identification: bool | None = Field(
        default=None, description="Staff visibly identifiable (badge or number)"
    )
    staff_notes: str | None = Field(default=None, description="Working conditions and notes")
    # N. Persons in vulnerable situations
    vulnerable_present: list[str] = Field(default_factory=list, description="Groups present")
    vulnerable_checks: list[VulnerableGroupCheck] = Field(
        default_factory=list, description="Checks per group"
    )
    # O. Private interviews
    interviews_individual: int | None = Field(default=None, description="Individual interviews")
    interviews_group: int | None = Field(default=None, description="Group interviews")
    selection_method: str | None = Field(default=None, description="Selection of interviewees")
    out_of_sight_hearing: bool | None = Field(
        default=None, description="Out of sight and hearing of staff"
    )
    staff_interviewed: str | None = Field(default=None, description="Staff interviewed (positions)")
    interview_records: list[UUID] = Field(default_factory=list, description="Interview records")
    interviewees: list[InterviewedCode] = Field(
        default_factory=list, description="Interviewees (codes only)"
    )
    # P. Closing meeting
    immediate_observations: str | None = Field(
        default=None, description="Immediate observations communicated"
    )
    urgent_matters: str | None = Field(default=None, description="Urgent matters raised")
    administration_response: str | None = Field(
        default=None, description="Administration's response"
    )
    # Q. Findings and recommendations
    theme_findings: list[ThemeFinding] = Field(
        default_factory=list, description="Findings by theme"
    )
    findings: str | None = Field(default=None, description="Findings")
    recommendations: list[UUID] = Field(default_factory=list, description="Recommendations")
    # R. Attachments
    attachments: list[UUID] = Field(
        default_factory=list, description="Photographs, document copies, sketches"
    )
    # S. Sign-off
    prepared_by: str | None = Field(default=None, description="Prepared by")
    prepared_on: PreciseDate | None = Field(default=None, description="Date")
    reviewed_by: str | None = Field(default=None, description="Reviewed or approved by")
    report_version: int | None = Field(default=None, description="Report version")
    report_confidentiality: str | None = Field(
        default=None, description="Confidentiality of the report"
    )
    # Police and temporary holding
    max_custody_hours: int | None = Field(default=None, description="Longest custody found (hours)")
    registration_gap_hours: int | None = Field(
        default=None, description="Longest gap between apprehension and registration (hours)"
    )
    interview_rooms_inspected: bool | None = Field(
        default=None, description="Interview rooms inspected"
    )
    items_found: str | None = Field(default=None, description="Items found in interview rooms")
    # Psychiatric and social-care settings
    involuntary_count: int | None = Field(
        default=None, description="Residents or patients held involuntarily"
    )
    placement_review: bool | None = Field(
        default=None, description="Involuntary placement reviewed by a court"
    )
    seclusion_used: bool | None = Field(default=None, description="Seclusion used")
    chemical_restraint: bool | None = Field(default=None, description="Chemical restraint used")
    consent_to_treatment: str | None = Field(default=None, description="Consent to treatment")
    guardianship: str | None = Field(default=None, description="Legal capacity and guardianship")
    free_to_leave: bool | None = Field(
        default=None, description="Voluntary residents free to leave"
    )
    # Migrant detention
    legal_basis_time_limits: str | None = Field(
        default=None, description="Legal basis and time limits"
    )
    asylum_access: bool | None = Field(default=None, description="Access to asylum procedure")
    interpreters_available: bool | None = Field(default=None, description="Interpreters available")
    consular_contact: bool | None = Field(default=None, description="Consular contact possible")
    children_detained: int | None = Field(default=None, description="Children detained")
    # Military detention
    disciplinary_basis: str | None = Field(default=None, description="Disciplinary or legal basis")
    max_duration_days: int | None = Field(default=None, description="Longest stay found (days)")
