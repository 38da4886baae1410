"""The organisation card with a sync address, the server's key at rest, and sync through a
SOCKS5 proxy (as through Tor), each with a real server on 127.0.0.1."""

from __future__ import annotations

import contextlib
import os
import socket
import stat
import struct
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from fieldkit.crypto.kdf import KdfParams
from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.domain.profile import Role
from fieldkit.services import sync as sync_service
from fieldkit.services import sync_tls, trust
from fieldkit.storage.vault import Vault
from tests.export.bundle_kit import World, add_evidence, add_people
from tests.helpers import STRONG_PASSPHRASE
from tests.sync.sync_kit import Server, imported_count, publish_card


@pytest.fixture
def server(world: World) -> Iterator[Server]:
    s = Server(world.coordinator.path, ()).start()
    try:
        publish_card(world, s)
        yield s
    finally:
        s.stop()


def test_the_card_carries_address_and_certificate(world: World, server: Server) -> None:
    card = trust.enrolled_card(world.monitor)
    assert card.sync is not None
    assert card.sync.url == server.url
    assert card.sync.certificate_sha256 == server.fingerprint
    assert card.issued_at is not None


def test_an_older_card_never_replaces_a_newer_one(world: World, server: Server) -> None:
    newer = trust.enrolled_card(world.monitor)
    # the card the monitor first enrolled with has no address and no date: the oldest of all
    trust.enrol(world.monitor, world.org_card, None)
    assert trust.enrolled_card(world.monitor) == newer
    assert trust.take_newer_card(world.monitor, world.org_card.read_bytes(), "org.pub") is False


def test_another_organisations_card_is_refused(world: World, tmp_path: Path) -> None:
    kdf = KdfParams.insecure_for_tests()
    other = Vault.create(tmp_path / "other", STRONG_PASSPHRASE, Role.COORDINATOR, kdf)
    world.extra["other"] = other
    trust.init_org(other, "Another organisation")
    card = tmp_path / "other.pub"
    trust.write_card(other, card)
    before = trust.enrolled_card(world.monitor)
    with pytest.raises(FieldkitError) as caught:
        trust.enrol(world.monitor, card, None)
    assert caught.value.code == ErrorCode.ORG_CARD_OTHER_ORG
    assert trust.enrolled_card(world.monitor) == before


def test_sync_takes_the_newer_card_the_server_publishes(world: World, server: Server) -> None:
    held = trust.enrolled_card(world.monitor)
    cert = sync_tls.server_certificate(world.coordinator, create=False)
    assert cert is not None
    # the coordinator writes a later card (same address); monitors get it with their next sync
    later = world.root / "org-later.pub"
    trust.write_card(
        world.coordinator, later, sync=trust.SyncEndpoint(server.url, cert.der, cert.sha256)
    )
    add_people(world.monitor, 1)
    result = sync_service.sync(world.monitor)
    assert result.card_updated
    now = trust.enrolled_card(world.monitor)
    assert now.issued_at is not None
    assert held.issued_at is not None
    assert now.issued_at >= held.issued_at
    assert now.sync == held.sync


def test_the_servers_key_is_encrypted_and_private(world: World, server: Server) -> None:
    cert = sync_tls.server_certificate(world.coordinator, create=False)
    assert cert is not None
    assert b"ENCRYPTED PRIVATE KEY" in cert.key_path.read_bytes()
    assert stat.S_IMODE(cert.key_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(cert.key_path.parent.stat().st_mode) == 0o700
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    with pytest.raises((TypeError, ValueError)):
        load_pem_private_key(cert.key_path.read_bytes(), password=None)


class Socks5Proxy:
    """A minimal SOCKS5 proxy (no authentication, CONNECT only) that counts what it relays."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.connects: list[tuple[str, int]] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"socks5://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self.stopping.is_set():
            try:
                conn, _addr = self.sock.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(60)
        try:
            version, count = conn.recv(2)
            conn.recv(count)
            conn.sendall(b"\x05\x00")
            _ver, _cmd, _rsv, kind = conn.recv(4)
            if kind == 1:
                host = socket.inet_ntoa(conn.recv(4))
            elif kind == 3:
                host = conn.recv(conn.recv(1)[0]).decode()
            else:
                return
            (port,) = struct.unpack("!H", conn.recv(2))
            self.connects.append((host, port))
            upstream = socket.create_connection((host, port), timeout=60)
            conn.sendall(b"\x05\x00\x00\x01" + socket.inet_aton("127.0.0.1") + b"\0\0")
            pump = threading.Thread(target=_pipe, args=(upstream, conn), daemon=True)
            pump.start()
            _pipe(conn, upstream)
            pump.join(timeout=60)
        except (OSError, ValueError):
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=30)
        self.sock.close()


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for s in (source, sink):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)


def test_sync_through_a_socks5_proxy(world: World, server: Server) -> None:
    proxy = Socks5Proxy()
    try:
        add_people(world.monitor, 3)
        add_evidence(world.monitor, world.root / "src", os.urandom(200_000))
        result = sync_service.sync(world.monitor, proxy=proxy.url)
    finally:
        proxy.close()
    assert [p.status for p in result.pushed] == ["imported"]
    assert result.receipt is not None
    assert imported_count(world) == 1
    assert proxy.connects, "the connection went through the proxy"
    assert all(port == server.port for _host, port in proxy.connects)


def test_a_proxy_that_is_not_there_is_a_clear_error(world: World, server: Server) -> None:
    spare = socket.create_server(("127.0.0.1", 0))
    port = spare.getsockname()[1]
    spare.close()  # nothing listens there now
    add_people(world.monitor, 1)
    with pytest.raises(FieldkitError) as caught:
        sync_service.sync(world.monitor, proxy=f"socks5://127.0.0.1:{port}")
    assert caught.value.code == ErrorCode.SYNC_CONNECT_FAILED
    assert "Nothing was lost" in caught.value.message()


def test_someone_who_finds_the_port_learns_no_organisation(world: World, server: Server) -> None:
    import httpx

    cert = sync_tls.server_certificate(world.coordinator, create=False)
    assert cert is not None
    with httpx.Client(verify=sync_tls.pinned_client_context(cert.der), trust_env=False) as http:
        card = http.get(f"{server.url}/v1/card")
        challenge = http.get(f"{server.url}/v1/challenge")
        receipt = http.get(f"{server.url}/v1/receipt")
    assert card.status_code == 401
    assert card.json()["error"]["code"] == "sync_auth_failed"
    assert "Test organisation" not in card.text
    assert receipt.status_code == 401
    assert challenge.status_code == 200
    assert set(challenge.json()) == {"protocol", "challenge", "expires_in"}
