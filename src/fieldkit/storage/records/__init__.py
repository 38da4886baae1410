"""The records repository: heads, every saved version, tombstones, links, conflicts.

Every save of a record writes, in the caller's one transaction: the new head row, an immutable
version row holding the canonical JSON of the version document and its SHA-256, the full-text
index, the links derived from its reference fields, and an audit entry carrying the same hash.
Deletion saves a tombstone version (``deleted: true``); the history stays.

The version document (what is hashed, carried in bundles and compared on import)::

    {"id", "type", "revision", "template_id", "template_version", "origin_device",
     "created_at", "updated_at", "confidential", "deleted", "data"}

Data passed to :meth:`RecordStore.create` and :meth:`RecordStore.save` must already be validated and
normalised (``fieldkit.domain.validation.validate_record``); the store checks what only the database
knows: that referenced records exist and have the right type, and that nobody saved in between.
"""

from fieldkit.storage.records.conflicts import ConflictView
from fieldkit.storage.records.heads import MAX_PAGE, RecordSummary, RecordView, received_view
from fieldkit.storage.records.importing import ImportBatchError, ImportOutcome
from fieldkit.storage.records.links import LINK_KINDS, LinkView, Referrer, iter_refs
from fieldkit.storage.records.store import RecordStore
from fieldkit.storage.records.versions import (
    DOC_KEYS,
    RecordVersionView,
    load_template,
    version_document,
)

__all__ = [
    "DOC_KEYS",
    "LINK_KINDS",
    "MAX_PAGE",
    "ConflictView",
    "ImportBatchError",
    "ImportOutcome",
    "LinkView",
    "RecordStore",
    "RecordSummary",
    "RecordVersionView",
    "RecordView",
    "Referrer",
    "iter_refs",
    "load_template",
    "received_view",
    "version_document",
]
