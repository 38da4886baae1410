"""Fixtures shared by every test: fast key derivation and fresh real SQLCipher vaults."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from fieldkit.crypto.kdf import KdfParams
from fieldkit.domain.profile import Role
from fieldkit.storage.vault import Vault
from tests import pg
from tests.helpers import STRONG_PASSPHRASE

# Qt widgets are tested offscreen; no display is needed. (Set before any test imports PySide6.)
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# Timing deadlines mean nothing on a loaded 2-core machine. Under CI the examples are derived from
# each test's name (derandomize), so a run is reproducible; locally every run explores new ones.
settings.register_profile(
    "ci",
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") == "true" else "dev")


@pytest.fixture
def fast_kdf(monkeypatch: pytest.MonkeyPatch) -> KdfParams:
    """INSECURE Argon2id parameters (1 MiB, one pass) so tests do not spend seconds per unlock."""
    monkeypatch.setenv("FIELDKIT_INSECURE_TEST_KDF", "1")
    return KdfParams.insecure_for_tests()


@pytest.fixture
def passphrase() -> str:
    return STRONG_PASSPHRASE


@pytest.fixture
def new_vault(tmp_path: Path, fast_kdf: KdfParams, passphrase: str) -> Iterator[Vault]:
    vault = Vault.create(
        tmp_path / "monitor",
        passphrase,
        Role.MONITOR,
        fast_kdf,
        database=pg.coordinator_database(),
    )
    yield vault
    vault.lock()


@pytest.fixture
def new_coordinator_vault(tmp_path: Path, fast_kdf: KdfParams, passphrase: str) -> Iterator[Vault]:
    vault = Vault.create(
        tmp_path / "coordinator",
        passphrase,
        Role.COORDINATOR,
        fast_kdf,
        database=pg.coordinator_database(),
    )
    yield vault
    vault.lock()


# --- PostgreSQL (the hub) ------------------------------------------------------------------------

SCHEMA_TEMPLATE = "fk_schema"


@pytest.fixture(scope="session")
def pg_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[pg.Cluster]:
    """One real PostgreSQL server for this test process, with a template database that already
    has the schema (so a test's database is a copy, not a run of every migration)."""
    cluster = pg.start_cluster(tmp_path_factory.mktemp("postgresql"))
    try:
        cluster.psql(f"CREATE DATABASE {SCHEMA_TEMPLATE}")
        from fieldkit.storage import migrate
        from fieldkit.storage.server import open_server_engine

        engine = open_server_engine(cluster.url(SCHEMA_TEMPLATE))
        try:
            migrate.upgrade(engine)
        finally:
            engine.dispose()
        yield cluster
    finally:
        pg.remove_cluster(cluster)


@pytest.fixture
def pg_database(pg_cluster: pg.Cluster) -> Iterator[str]:
    """The address of a fresh database (schema in place, no hub yet) on the test server."""
    name = pg_cluster.new_database(template=SCHEMA_TEMPLATE)
    yield pg_cluster.url(name)
    pg_cluster.drop_database(name)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "sqlcipher_only(reason): in a backend-parametrised module, a test of the SQLCipher file "
        "itself (tampering with it through its key, scanning it); it runs on SQLite only",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``sqlcipher_only`` are not collected for the PostgreSQL backend."""
    kept, dropped = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_server = callspec is not None and callspec.params.get("backend") == "postgresql"
        (dropped if on_server and item.get_closest_marker("sqlcipher_only") else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> Iterator[str]:
    """Runs a test once on a profile's own SQLCipher file and once on a hub's PostgreSQL.

    A module opts in with ``pytestmark = pytest.mark.usefixtures("backend")``: the vault
    fixtures and ``tests/export/bundle_kit.make_world`` then put the profiles they make on the
    server (monitors' laptops included, so the storage suites run there whole)."""
    if request.param == "sqlite":
        yield "sqlite"
        return
    cluster: pg.Cluster = request.getfixturevalue("pg_cluster")
    made: list[str] = []

    def new_database() -> str:
        made.append(cluster.new_database(template=SCHEMA_TEMPLATE))
        return cluster.url(made[-1])

    with pg.profiles_on(new_database):
        yield "postgresql"
    for name in made:
        cluster.drop_database(name)
