"""ORM tables of the bundles area."""
