"""Bad input and faults, each against a real server on 127.0.0.1 and real clients.

Nothing lost (every record and file arrives once the fault is over), nothing doubled (one
imported bundle per bundle id), every refusal a clear message on both sides. Waits are on
conditions (the server's upload folder, a server's answer), never fixed sleeps.
"""

from __future__ import annotations

import hashlib
import os
import socket
import ssl
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.i18n import get_translator
from fieldkit.services import bundles as bundle_service
from fieldkit.services import sync as sync_service
from fieldkit.services import sync_protocol as proto
from fieldkit.services import sync_tls, trust
from fieldkit.services.sync import _waiting
from fieldkit.storage.vault import Vault
from tests.export.bundle_kit import World, add_evidence, add_people
from tests.helpers import STRONG_PASSPHRASE, cli_env
from tests.sync.sync_kit import (
    Server,
    client_for,
    imported_count,
    part_size,
    publish_card,
    uploads,
    wait_for,
)

MiB = 1024 * 1024


@pytest.fixture
def server(world: World) -> Iterator[Server]:
    s = Server(world.coordinator.path, ()).start()
    try:
        publish_card(world, s)
        yield s
    finally:
        s.stop()


def outbox_bundle(vault: Vault) -> tuple[str, Path, int, str]:
    bundle_service.export_bundle(vault, sync_service.outbox_dir(vault))
    [waiting] = _waiting(vault)
    data = waiting.path.read_bytes()
    return waiting.bundle_id, waiting.path, len(data), hashlib.sha256(data).hexdigest()


def evidence_hashes(vault: Vault) -> set[str]:
    from fieldkit.services.evidence import EvidenceService

    return {item.sha256 for item in EvidenceService(vault).list_items()}


def make_outbox(world: World, size: int) -> bytes:
    os.makedirs(sync_service.outbox_dir(world.monitor), exist_ok=True)
    add_people(world.monitor, 3)
    data = os.urandom(size)
    add_evidence(world.monitor, world.root / "src", data, "video.bin")
    return data


# --- who may send ------------------------------------------------------------------------------


def test_an_unknown_device_is_refused_before_anything_is_stored(
    world: World, server: Server
) -> None:
    stranger = Vault.create(
        world.root / "stranger", STRONG_PASSPHRASE, world.monitor.role, world.monitor.kdf
    )
    world.extra["stranger"] = stranger
    card = next(world.root.glob("org-*.pub"))
    trust.enrol(stranger, card, world.root / "stranger.pub")  # never added on the other side
    add_people(stranger, 2)
    with pytest.raises(FieldkitError) as caught:
        sync_service.sync(stranger)
    assert caught.value.code == ErrorCode.SYNC_AUTH_FAILED
    assert "not enrolled" in caught.value.message()
    ukrainian = caught.value.message(get_translator("uk"))
    assert "не зареєстровано" in ukrainian
    assert uploads(world.coordinator) == []
    assert imported_count(world) == 0
    assert "sync_auth_failed" in server.stop()


def test_a_revoked_device_is_refused(world: World, server: Server) -> None:
    add_people(world.monitor, 2)
    trust.revoke_device(world.coordinator, "W-017 laptop")
    with pytest.raises(FieldkitError) as caught:
        sync_service.sync(world.monitor)
    assert caught.value.code == ErrorCode.SYNC_AUTH_FAILED
    assert "revoked" in caught.value.message()
    assert uploads(world.coordinator) == []
    assert imported_count(world) == 0


def test_a_bundle_over_the_size_cap_is_refused_before_it_is_sent(world: World) -> None:
    server = Server(world.coordinator.path, ("--max-bundle-size", "1")).start()
    try:
        publish_card(world, server)
        make_outbox(world, 2 * MiB)
        with pytest.raises(FieldkitError) as caught:
            sync_service.sync(world.monitor)
        assert caught.value.code == ErrorCode.SYNC_UPLOAD_TOO_LARGE
        assert "more than the server accepts (1048576 bytes)" in caught.value.message()
        assert uploads(world.coordinator) == []
        assert imported_count(world) == 0
        [waiting] = _waiting(world.monitor)  # still there for a stick
        assert waiting.path.is_file()
    finally:
        log = server.stop()
    assert "sync_upload_too_large" in log


# --- the server is not who it should be -------------------------------------------------------


def _card_with_other_certificate(world: World, server: Server) -> None:
    other = Vault.create(
        world.root / "other-coord", STRONG_PASSPHRASE, world.coordinator.role, world.monitor.kdf
    )
    world.extra["other"] = other
    wrong = sync_tls.server_certificate(other)
    assert wrong is not None
    card = world.root / "org-wrong.pub"
    trust.write_card(
        world.coordinator, card, sync=trust.SyncEndpoint(server.url, wrong.der, wrong.sha256)
    )
    trust.enrol(world.monitor, card, None)


def test_a_wrong_certificate_is_refused_and_nothing_is_sent(world: World, server: Server) -> None:
    _card_with_other_certificate(world, server)
    add_people(world.monitor, 2)
    with pytest.raises(FieldkitError) as caught:
        sync_service.sync(world.monitor)
    assert caught.value.code == ErrorCode.SYNC_CERTIFICATE_MISMATCH
    assert "Nothing was sent" in caught.value.message()
    assert "Нічого не надіслано" in caught.value.message(get_translator("uk"))
    assert _waiting(world.monitor) == []  # not even exported: the handshake failed first
    log = server.stop()
    assert "bundle" not in log
    assert uploads(world.coordinator) == []


class GarbageServer:
    """A TLS server with the organisation's own certificate that answers ``reply`` to anything."""

    def __init__(self, vault: Vault, reply: bytes) -> None:
        cert = sync_tls.server_certificate(vault, create=False)
        assert cert is not None
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert.cert_path, cert.key_path, cert.key_password)
        self.reply = reply
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self.stopping.is_set():
            try:
                conn, _addr = self.sock.accept()
            except TimeoutError:
                continue
            try:
                with self.context.wrap_socket(conn, server_side=True) as tls:
                    tls.settimeout(10)
                    tls.recv(65536)
                    tls.sendall(self.reply)
            except (OSError, ssl.SSLError):
                continue

    def close(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=30)
        self.sock.close()


JSON_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"


@pytest.mark.parametrize(
    "reply",
    [
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 15\r\n\r\n<html>hi</html>",
        b"\x00\xff\x13garbage that is not HTTP\r\n\r\n",
        JSON_HEAD + b'Content-Length: 14\r\n\r\n{"what": "no"}',
        JSON_HEAD + b"Content-Length: 9\r\n\r\n[1, 2, 3]",
    ],
    ids=["html", "not-http", "wrong-json", "json-list"],
)
def test_a_server_that_answers_garbage(world: World, server: Server, reply: bytes) -> None:
    server.stop()  # only for its certificate
    garbage = GarbageServer(world.coordinator, reply)
    try:
        cert = sync_tls.server_certificate(world.coordinator, create=False)
        assert cert is not None
        card = world.root / "org-garbage.pub"
        trust.write_card(
            world.coordinator,
            card,
            sync=trust.SyncEndpoint(f"https://127.0.0.1:{garbage.port}", cert.der, cert.sha256),
        )
        trust.enrol(world.monitor, card, None)
        add_people(world.monitor, 2)
        with pytest.raises(FieldkitError) as caught:
            sync_service.sync(world.monitor)
    finally:
        garbage.close()
    assert caught.value.code == ErrorCode.SYNC_BAD_RESPONSE
    assert "not the fieldkit sync protocol" in caught.value.message()
    assert "Nothing was marked as delivered" in caught.value.message()
    with world.monitor.session() as s:
        from sqlalchemy import select

        from fieldkit.storage.tables.bundles import ExportedBundle

        assert not any(r.acknowledged for r in s.execute(select(ExportedBundle)).scalars())


# --- interruptions ----------------------------------------------------------------------------


CLIENT_THAT_STOPS = textwrap.dedent(
    """
    import hashlib, os, sys, time
    from pathlib import Path
    from fieldkit.services.profile import open_profile
    from fieldkit.services import trust
    from fieldkit.services.sync import _Client, _waiting

    vault = open_profile(Path(sys.argv[1]), os.environ["FIELDKIT_PASSPHRASE"])
    stop_after = int(sys.argv[2])
    [waiting] = _waiting(vault)
    data = waiting.path.read_bytes()
    client = _Client(vault, trust.enrolled_card(vault).sync, None, 600.0)

    def body():
        sent = 0
        while sent < stop_after:
            yield data[sent : sent + 65536]
            sent += 65536
        print("paused", flush=True)
        time.sleep(3600)  # hold the connection until killed

    client.put(waiting.bundle_id, len(data), hashlib.sha256(data).hexdigest(), 0, body())
    """
)


@pytest.mark.slow
def test_a_client_killed_mid_upload_resumes_where_the_server_stopped(
    world: World, server: Server
) -> None:
    original = make_outbox(world, 6 * MiB)
    bundle_id, _path, size, _sha = outbox_bundle(world.monitor)
    script = world.root / "stops.py"
    script.write_text(CLIENT_THAT_STOPS)
    client = subprocess.Popen(
        [sys.executable, str(script), str(world.monitor.path), str(3 * MiB)],
        env=cli_env(world.monitor.path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: part_size(world.coordinator) >= MiB, "the server to keep a part")
    finally:
        client.kill()
        client.communicate(timeout=30)
    assert imported_count(world) == 0
    result = subprocess.run(
        [sys.executable, "-m", "fieldkit", "--json", "sync", "--no-export"],
        env=cli_env(world.monitor.path),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    import json

    doc = json.loads(result.stdout)
    [pushed] = doc["pushed"]
    assert pushed["bundle_id"] == bundle_id
    assert pushed["status"] == "imported"
    assert MiB <= pushed["resumed_from"] < size
    assert doc["acknowledged_bundles"] == [1]
    assert imported_count(world) == 1
    assert hashlib.sha256(original).hexdigest() in evidence_hashes(world.coordinator)
    assert uploads(world.coordinator) == []


@pytest.mark.slow
def test_a_server_killed_mid_import_loses_nothing(world: World, server: Server) -> None:
    original = make_outbox(world, 6 * MiB)
    outbox_bundle(world.monitor)
    paused, go_on = threading.Event(), threading.Event()

    def progress(done: int, total: int, stage: str) -> None:
        if done >= 3 * MiB and not go_on.is_set():
            paused.set()
            go_on.wait(120)

    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(sync_service.sync(world.monitor, export=False, progress=progress))
        except FieldkitError as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    try:
        assert paused.wait(120)
        wait_for(lambda: part_size(world.coordinator) >= MiB, "the server to keep a part")
        server.kill()  # SIGKILL in the middle of the import: no clean-up of any kind
        server.stop()  # only collects what it logged
        kept = part_size(world.coordinator)
    finally:
        go_on.set()
    thread.join(timeout=300)
    assert not thread.is_alive()
    assert imported_count(world) == 0  # the import never committed
    restarted = Server(world.coordinator.path, (), port=server.port).start()
    try:
        first = outcome[0]
        if isinstance(first, FieldkitError):
            assert first.code == ErrorCode.SYNC_CONNECT_FAILED
            assert "Nothing was lost" in first.message()
        result = sync_service.sync(world.monitor, export=False)
        [pushed] = result.pushed
        assert pushed.status == "imported"
        assert 0 < pushed.resumed_from <= kept
        assert result.receipt is not None
        assert result.receipt.bundles == [1]
    finally:
        restarted.stop()
    assert imported_count(world) == 1
    assert hashlib.sha256(original).hexdigest() in evidence_hashes(world.coordinator)


@pytest.mark.slow
def test_the_same_bundle_sent_twice_at_once_is_imported_once(world: World, server: Server) -> None:
    make_outbox(world, 2 * MiB)
    bundle_id, path, size, sha = outbox_bundle(world.monitor)
    data = path.read_bytes()
    release = threading.Event()

    def held_body() -> Iterator[bytes]:
        yield data[: 64 * 1024]
        release.wait(120)
        for start in range(64 * 1024, len(data), 256 * 1024):
            yield data[start : start + 256 * 1024]

    first: list[Any] = []

    def send_first() -> None:
        client = client_for(world.monitor)
        try:
            first.append(client.put(bundle_id, size, sha, 0, held_body()))  # type: ignore[attr-defined]
        except FieldkitError as exc:
            first.append(exc)
        finally:
            client.close()  # type: ignore[attr-defined]

    thread = threading.Thread(target=send_first)
    thread.start()
    try:
        wait_for(
            lambda: any(p.suffix == ".json" for p in uploads(world.coordinator)),
            "the first upload to begin",
        )
        second = client_for(world.monitor)
        with pytest.raises(FieldkitError) as caught:
            second.put(bundle_id, size, sha, 0, iter([data]))  # type: ignore[attr-defined]
        assert caught.value.code == ErrorCode.SYNC_UPLOAD_BUSY
        assert "another connection" in caught.value.message()
    finally:
        release.set()
        thread.join(timeout=300)
    assert isinstance(first[0], dict), first
    assert first[0]["status"] == "imported"
    assert second.status(bundle_id, size, sha)["state"] == "imported"  # type: ignore[attr-defined]
    second.close()  # type: ignore[attr-defined]
    again = sync_service.sync(world.monitor, export=False)
    # the raw uploads applied no receipt: sync asks, hears "imported", sends nothing, applies it
    assert [p.status for p in again.pushed] == ["already_imported"]
    assert again.pushed[0].sent_bytes == 0
    assert again.receipt is not None
    assert imported_count(world) == 1


def _read_response(tls: ssl.SSLSocket) -> bytes:
    """One HTTP response: the head, then as many bytes as its Content-Length says."""
    answer = b""
    while b"\r\n\r\n" not in answer:
        chunk = tls.recv(65536)
        if not chunk:
            return answer
        answer += chunk
    head, _sep, body = answer.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _colon, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = tls.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


@pytest.mark.slow
def test_a_slow_client_is_dropped_and_others_go_on(world: World) -> None:
    server = Server(world.coordinator.path, ("--idle-timeout", "1")).start()
    try:
        publish_card(world, server)
        make_outbox(world, 256 * 1024)
        bundle_id, path, size, sha = outbox_bundle(world.monitor)
        client = client_for(world.monitor)
        challenge = client._new_challenge()  # type: ignore[attr-defined]
        client.close()  # type: ignore[attr-defined]
        target = proto.BUNDLE_PATH.format(bundle_id=bundle_id) + "?offset=0"
        auth = proto.authorization(
            world.monitor.device_signing_key(),
            trust.device_public_key(world.monitor).id_hex,
            "PUT",
            target,
            challenge,
            server.fingerprint,
        )
        cert = sync_tls.server_certificate(world.coordinator, create=False)
        assert cert is not None
        context = sync_tls.pinned_client_context(cert.der)
        raw = socket.create_connection(("127.0.0.1", server.port), timeout=60)
        with context.wrap_socket(raw) as tls:
            head = (
                f"PUT {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {auth}\r\n"
                f"{proto.SIZE_HEADER}: {size}\r\n{proto.SHA256_HEADER}: {sha}\r\n"
                f"Content-Length: {size}\r\n\r\n"
            ).encode()
            tls.sendall(head + path.read_bytes()[:100])
            answer = _read_response(tls)  # the server answers once the idle timeout passed
        assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
        assert b"incomplete" in answer
        result = sync_service.sync(world.monitor, export=False)
        assert [p.status for p in result.pushed] == ["imported"]
        assert imported_count(world) == 1
    finally:
        log = server.stop()
    assert "the sender stopped" in log


@pytest.mark.slow
def test_cancel_keeps_what_arrived_for_the_next_sync(world: World, server: Server) -> None:
    make_outbox(world, 6 * MiB)
    outbox_bundle(world.monitor)
    from fieldkit.domain.progress import CancelToken

    token = CancelToken()

    def progress(done: int, total: int, stage: str) -> None:
        if done >= 3 * MiB:
            token.cancel()

    with pytest.raises(FieldkitError) as caught:
        sync_service.sync(world.monitor, export=False, progress=progress, cancel=token)
    assert caught.value.code == ErrorCode.CANCELLED
    wait_for(lambda: part_size(world.coordinator) > 0, "the server to keep the part")
    result = sync_service.sync(world.monitor, export=False)
    [pushed] = result.pushed
    assert pushed.status == "imported"
    assert pushed.resumed_from > 0
    assert imported_count(world) == 1


def test_a_bundle_imported_from_a_stick_is_not_imported_again(world: World, server: Server) -> None:
    make_outbox(world, 128 * 1024)
    _bundle_id, path, _size, _sha = outbox_bundle(world.monitor)
    report = bundle_service.import_bundle(world.coordinator, path, receipt_dir=world.root)
    assert report.status == "imported"
    result = sync_service.sync(world.monitor, export=False)
    assert [p.status for p in result.pushed] == ["already_imported"]
    assert result.receipt is not None
    assert result.receipt.bundles == [1]
    assert imported_count(world) == 1
    assert _waiting(world.monitor) == []
