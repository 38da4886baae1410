"""All ORM tables; importing this package registers every table on ``Base.metadata``."""

from fieldkit.storage.base import Base
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
from fieldkit.storage.tables.sealed import listen_for_sealing

listen_for_sealing(Base)

__all__ = ["bundles", "counsel", "disclosures", "drafts", "evidence", "hub", "profile", "records"]
