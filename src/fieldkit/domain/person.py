"""A person. Roles (victim, witness, source, perpetrator) come from links, not from this record
(records.md §2).

The fields mirror the form template ``resources/forms/person.json`` (version 1);
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


class Address(_Model):
    """Addresses."""

    type: str | None = Field(default=None, description="Type")
    address: str = Field(description="Address")
    oblast: str | None = Field(default=None, description="Region (oblast)")
    phone: str | None = Field(default=None, description="Telephone")
    email: str | None = Field(default=None, description="E-mail")
    start: PreciseDate | None = Field(default=None, description="From")
    end: PreciseDate | None = Field(default=None, description="To")


class RelatedPerson(_Model):
    """Related persons."""

    person: UUID = Field(description="Person")
    relationship: str = Field(description="Relationship")
    from_date: PreciseDate | None = Field(default=None, description="From")
    to_date: PreciseDate | None = Field(default=None, description="To")


class Affiliation(_Model):
    """Affiliation, position and rank."""

    organisation: str = Field(description="Organisation or unit")
    position: str | None = Field(default=None, description="Position")
    rank: str | None = Field(default=None, description="Rank")
    call_sign: str | None = Field(default=None, description="Call-sign")
    from_date: PreciseDate | None = Field(default=None, description="From")
    to_date: PreciseDate | None = Field(default=None, description="To")


class Lawyer(_Model):
    """Lawyer."""

    code: str | None = Field(default=None, description="Lawyer (code)")
    appointment: str | None = Field(default=None, description="Chosen or appointed")
    first_access: PreciseDate | None = Field(default=None, description="Date of first access")
    contact: str | None = Field(default=None, description="Contact")


class Person(_Model):
    """Person."""

    TEMPLATE_ID: ClassVar[str] = "person"

    # Identity
    pseudonym: str = Field(description="Pseudonym code")
    counting_unit: str | None = Field(default=None, description="Counting unit")
    name: str | None = Field(default=None, description="Full name")
    other_names: str | None = Field(default=None, description="Other names, aliases, call-signs")
    sex: str | None = Field(default=None, description="Sex")
    gender_identity: str | None = Field(
        default=None, description="Gender identity (self-described, with consent)"
    )
    date_of_birth: PreciseDate | None = Field(default=None, description="Date of birth")
    place_of_birth: str | None = Field(default=None, description="Place of birth")
    citizenship: str | None = Field(default=None, description="Citizenship")
    ethnic_background: str | None = Field(default=None, description="Ethnic background")
    religion: str | None = Field(default=None, description="Religion")
    languages: list[str] = Field(default_factory=list, description="Languages")
    id_documents: str | None = Field(default=None, description="Identification documents")
    # Group
    group_description: str | None = Field(default=None, description="Group description")
    group_size: int | None = Field(default=None, description="Number of persons in the group")
    # Background
    civil_status: str | None = Field(default=None, description="Civil status")
    dependants: int | None = Field(default=None, description="Number of dependants")
    education: str | None = Field(default=None, description="Education")
    occupation: str | None = Field(default=None, description="Occupation")
    health: str | None = Field(default=None, description="Health")
    physical_description: str | None = Field(default=None, description="Physical description")
    vulnerabilities: list[str] = Field(
        default_factory=list, description="Vulnerability relevant in detention"
    )
    deceased: bool | None = Field(default=None, description="Deceased")
    date_of_death: PreciseDate | None = Field(default=None, description="Date of death")
    # Addresses and safe contact
    addresses: list[Address] = Field(default_factory=list, description="Addresses")
    safe_contact: str | None = Field(default=None, description="Safe-contact instructions")
    risk_level: str | None = Field(default=None, description="Current risk level")
    protection_concerns: str | None = Field(default=None, description="Protection concerns")
    accessibility_needs: str | None = Field(
        default=None, description="Interpreter or accessibility needs"
    )
    reliability_as_source: str | None = Field(default=None, description="Reliability as a source")
    # Related persons and affiliations
    related_persons: list[RelatedPerson] = Field(
        default_factory=list, description="Related persons"
    )
    affiliations: list[Affiliation] = Field(
        default_factory=list, description="Affiliation, position and rank"
    )
    # Legal status and defence
    procedural_status: str | None = Field(default=None, description="Current procedural status")
    place_of_detention: UUID | None = Field(default=None, description="Current place of detention")
    lawyer: Lawyer | None = Field(default=None, description="Lawyer")
