"""A recommendation and its follow-up across visits (records.md §8.1).

The fields mirror the form template ``resources/forms/recommendation.json`` (version 1);
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


class FollowUpCheck(_Model):
    """Follow-up checks."""

    visit: UUID | None = Field(default=None, description="Follow-up visit")
    date: PreciseDate = Field(description="Date")
    status: str = Field(description="Status found")
    verification_method: str | None = Field(default=None, description="How verified")
    authority_response: str | None = Field(default=None, description="Authority response")
    response_date: PreciseDate | None = Field(default=None, description="Date of the response")
    response_text: str | None = Field(default=None, description="Response (summary)")
    evidence: list[UUID] = Field(default_factory=list, description="Supporting evidence")
    notes: str | None = Field(default=None, description="Notes")


class Recommendation(_Model):
    """Recommendation."""

    TEMPLATE_ID: ClassVar[str] = "recommendation"

    # Recommendation
    title: str = Field(description="Short title")
    origin: str = Field(description="Origin")
    origin_visit: UUID | None = Field(default=None, description="Visit")
    origin_case: UUID | None = Field(default=None, description="Case")
    origin_report: str | None = Field(default=None, description="Thematic report")
    facility: UUID | None = Field(default=None, description="Facility")
    addressee: str = Field(description="Addressee")
    addressee_detail: str | None = Field(default=None, description="Addressee (body or position)")
    text: str = Field(description="Text of the recommendation")
    theme: str = Field(description="Theme")
    standards_cited: str | None = Field(default=None, description="Standards cited")
    priority: str = Field(description="Priority")
    issued_on: PreciseDate = Field(description="Issued on")
    response_due: PreciseDate | None = Field(default=None, description="Response due")
    implementation_status: str = Field(description="Implementation status")
    # Quality check (SMART)
    smart_specific: bool | None = Field(default=None, description="Specific")
    smart_measurable: bool | None = Field(default=None, description="Measurable")
    smart_achievable: bool | None = Field(default=None, description="Achievable")
    smart_relevant: bool | None = Field(default=None, description="Relevant")
    smart_time_bound: bool | None = Field(default=None, description="Time-bound")
    # Follow-up
    follow_up: list[FollowUpCheck] = Field(default_factory=list, description="Follow-up checks")
