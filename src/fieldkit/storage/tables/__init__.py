"""All ORM tables; importing this package registers every table on ``Base.metadata``."""

from fieldkit.storage.tables import bundles, disclosures, drafts, evidence, profile, records

__all__ = ["bundles", "disclosures", "drafts", "evidence", "profile", "records"]
