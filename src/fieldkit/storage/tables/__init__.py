"""All ORM tables; importing this package registers every table on ``Base.metadata``."""

from fieldkit.storage.tables import (
    bundles,
    counsel,
    disclosures,
    drafts,
    evidence,
    hub,
    profile,
    records,
)

__all__ = ["bundles", "counsel", "disclosures", "drafts", "evidence", "hub", "profile", "records"]
