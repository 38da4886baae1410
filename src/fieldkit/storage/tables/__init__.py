"""All ORM tables; importing this package registers every table on ``Base.metadata``."""

from fieldkit.storage.tables import bundles, drafts, evidence, profile, records

__all__ = ["bundles", "drafts", "evidence", "profile", "records"]
