"""All ORM tables; importing this package registers every table on ``Base.metadata``."""

from fieldkit.storage.tables import bundles, evidence, profile, records

__all__ = ["bundles", "evidence", "profile", "records"]
