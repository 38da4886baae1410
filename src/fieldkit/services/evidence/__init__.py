"""Evidence use cases: add, list, show, verify, export, purge, custody; and the bundle hooks.

Every call is one unit of work. Slow calls take ``progress`` and ``cancel``; a cancel undoes the
partial work (the partial file is removed, no row is written) and raises CANCELLED.

One module per idea: ``intake`` (adding), ``links`` (links and inherited consent), ``reading``,
``custody``, ``verify``, ``export``, ``purge`` and ``exchange`` (bundles), on the shared ``core``.
"""

from __future__ import annotations

from fieldkit.services.evidence.core import DOC_FORMAT
from fieldkit.services.evidence.custody import CustodyMixin, quick_check
from fieldkit.services.evidence.exchange import ExchangeMixin
from fieldkit.services.evidence.export import ExportMixin, ExportResult, _drive_kind
from fieldkit.services.evidence.intake import AddResult, IntakeMixin
from fieldkit.services.evidence.purge import PurgeMixin, startup_cleanup
from fieldkit.services.evidence.reading import ReadingMixin
from fieldkit.services.evidence.verify import VerifyMixin

__all__ = [
    "DOC_FORMAT",
    "AddResult",
    "EvidenceService",
    "ExportResult",
    "_drive_kind",
    "quick_check",
    "startup_cleanup",
]


class EvidenceService(
    IntakeMixin,
    ReadingMixin,
    CustodyMixin,
    VerifyMixin,
    ExportMixin,
    PurgeMixin,
    ExchangeMixin,
):
    """Evidence of one unlocked profile."""
