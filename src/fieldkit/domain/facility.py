"""A place of deprivation of liberty in the OPCAT Art. 4 sense (records.md §4).

The fields mirror the form template ``resources/forms/facility.json`` (version 1);
``tests/unit/test_domain_models.py`` checks that every template field exists here and back.
Choice fields hold vocabulary codes; references hold record ids.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Facility(_Model):
    """Place of deprivation of liberty."""

    TEMPLATE_ID: ClassVar[str] = "facility"

    # Identification
    official_name: str = Field(description="Official name")
    name_uk: str | None = Field(default=None, description="Name in Ukrainian")
    name_ru: str | None = Field(default=None, description="Name in Russian")
    name_en: str | None = Field(default=None, description="Name in English")
    common_name: str | None = Field(default=None, description="Common name or number")
    facility_type: str = Field(description="Facility type")
    regime: str | None = Field(default=None, description="Security level or regime")
    subordinate_authority: str | None = Field(default=None, description="Subordinate authority")
    control_status: str | None = Field(default=None, description="Control status of the territory")
    unofficial: bool | None = Field(
        default=None, description='Unofficial place (basement, "filtration" point)'
    )
    status: str | None = Field(default=None, description="Status")
    # Location
    address: str | None = Field(default=None, description="Address")
    oblast: str | None = Field(default=None, description="Region (oblast)")
    raion: str | None = Field(default=None, description="District (raion)")
    hromada: str | None = Field(default=None, description="Community (hromada)")
    coordinates: str | None = Field(default=None, description="Coordinates (latitude, longitude)")
    # Capacity and population
    capacity: int | None = Field(default=None, description="Official capacity (places)")
    categories_held: list[str] = Field(default_factory=list, description="Categories held")
    population_groups: list[str] = Field(default_factory=list, description="Sexes and ages held")
    # Administration and buildings
    head_name: str | None = Field(default=None, description="Head of facility")
    head_phone: str | None = Field(default=None, description="Head's telephone")
    buildings: str | None = Field(default=None, description="Buildings (age, type, condition)")
    notes: str | None = Field(default=None, description="Notes")
