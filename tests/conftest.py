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
    vault = Vault.create(tmp_path / "monitor", passphrase, Role.MONITOR, fast_kdf)
    yield vault
    vault.lock()


@pytest.fixture
def new_coordinator_vault(tmp_path: Path, fast_kdf: KdfParams, passphrase: str) -> Iterator[Vault]:
    vault = Vault.create(tmp_path / "coordinator", passphrase, Role.COORDINATOR, fast_kdf)
    yield vault
    vault.lock()
