"""A real sync server in a subprocess on an ephemeral port, and a world whose card points at it."""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fieldkit.services import sync_tls, trust
from fieldkit.storage.vault import Vault
from tests.export.bundle_kit import World
from tests.helpers import cli_env

START_TIMEOUT = 60.0


@dataclass
class Server:
    profile: Path
    args: tuple[str, ...]
    port: int = 0
    process: subprocess.Popen[str] | None = None
    fingerprint: str = ""

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def start(self) -> Server:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "fieldkit",
                "--json",
                "hub",
                "serve",
                "--listen",
                f"127.0.0.1:{self.port}",
                *self.args,
            ],
            env=cli_env(self.profile, FIELDKIT_DEBUG=os.environ.get("FIELDKIT_DEBUG", "0")),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        line = _read_line(self.process, START_TIMEOUT)
        doc = json.loads(line)
        self.port = int(doc["listening"].rsplit(":", 1)[1])
        self.fingerprint = doc["certificate_sha256"]
        return self

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, as a power cut would."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> str:
        """SIGTERM and wait; returns what the server logged (once; later calls return "")."""
        if self.process is None or self.process.stderr is None or self.process.stderr.closed:
            return ""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
        assert self.process.stderr is not None
        log = self.process.stderr.read()
        self.process.stdout and self.process.stdout.close()  # type: ignore[func-returns-value]
        self.process.stderr.close()
        return log


def _read_line(process: subprocess.Popen[str], timeout: float) -> str:
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if selector.select(timeout=0.5):
            line = process.stdout.readline()
            if line:
                return line
        if process.poll() is not None:
            assert process.stderr is not None
            raise AssertionError(f"the server exited: {process.stderr.read()}")
    raise AssertionError("the server did not start in time")


def publish_card(world: World, server: Server, out: Path | None = None) -> Path:
    """A card with the server's address; the monitor takes it in place of its old one."""
    cert = sync_tls.server_certificate(world.coordinator, create=False)
    assert cert is not None
    assert cert.sha256 == server.fingerprint
    card = out or world.root / f"org-{server.port}.pub"
    if card.exists():
        card.unlink()
    endpoint = trust.SyncEndpoint(server.url, cert.der, cert.sha256)
    trust.write_card(world.coordinator, card, sync=endpoint)
    trust.enrol(world.monitor, card, None)
    return card


def uploads(vault: Vault) -> list[Path]:
    folder = vault.path / "sync" / "uploads"
    return sorted(folder.iterdir()) if folder.exists() else []


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    """Poll a condition (never a fixed sleep standing in for one)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def part_size(vault: Vault) -> int:
    parts = [p for p in uploads(vault) if p.suffix == ".part"]
    return sum(p.stat().st_size for p in parts if p.exists())


def imported_count(world: World) -> int:
    from sqlalchemy import func, select

    from fieldkit.storage.tables.bundles import ImportedBundle

    with world.coordinator.session() as s:
        return int(s.execute(select(func.count()).select_from(ImportedBundle)).scalar_one())


def client_for(vault: Vault) -> object:
    """The real client of the sync service, for tests that drive the protocol step by step."""
    from fieldkit.services.sync import _Client

    card = trust.enrolled_card(vault)
    assert card.sync is not None
    return _Client(vault, card.sync, None, 60.0)
