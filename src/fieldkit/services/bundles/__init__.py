"""Bundle use cases: export (monitor), import and verify (coordinator), receipts, purge, held
bundles. One module per idea; this package re-exports what callers use."""

from fieldkit.services.bundles.applying import RECORD_BATCH
from fieldkit.services.bundles.common import (
    BUNDLE_SUFFIX,
    MAX_BUNDLE_RECORDS,
    RECEIPT_FORMAT,
    BundleReport,
    ExportResult,
    PurgeResult,
    ReceiptResult,
)
from fieldkit.services.bundles.export import export_bundle
from fieldkit.services.bundles.held import (
    HELD_REASONS,
    discard_held,
    held_reason_text,
    list_alarms,
    list_quarantined,
)
from fieldkit.services.bundles.importer import (
    StreamSource,
    import_bundle,
    import_held,
    import_stream,
    imported_bundle_device,
    quarantine_cleanup,
    verify_bundle,
)
from fieldkit.services.bundles.receipts import (
    acknowledged_through,
    apply_receipt,
    apply_receipt_data,
    device_receipt,
    purge_acknowledged,
    receipt_name,
    write_device_receipt,
)
from fieldkit.services.bundles.wording import (
    receipt_summary,
    record_counts_text,
    refusal_next_step,
    seqs_text,
)

__all__ = [
    "BUNDLE_SUFFIX",
    "HELD_REASONS",
    "MAX_BUNDLE_RECORDS",
    "RECEIPT_FORMAT",
    "RECORD_BATCH",
    "BundleReport",
    "ExportResult",
    "PurgeResult",
    "ReceiptResult",
    "StreamSource",
    "acknowledged_through",
    "apply_receipt",
    "apply_receipt_data",
    "device_receipt",
    "discard_held",
    "export_bundle",
    "held_reason_text",
    "import_bundle",
    "import_held",
    "import_stream",
    "imported_bundle_device",
    "list_alarms",
    "list_quarantined",
    "purge_acknowledged",
    "quarantine_cleanup",
    "receipt_name",
    "receipt_summary",
    "record_counts_text",
    "refusal_next_step",
    "seqs_text",
    "verify_bundle",
    "write_device_receipt",
]
