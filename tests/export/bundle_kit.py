"""Tools for bundle tests: a coordinator and an enrolled monitor, table dumps, and a forger that
takes a real bundle apart and puts altered versions back together (re-signed where a test needs
the signature to hold, so the check under test is the one that fires)."""

from __future__ import annotations

import hashlib
import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import inspect, text

from fieldkit.crypto.age import X25519Identity, X25519Recipient, encrypt_bytes
from fieldkit.crypto.age_read import decrypt_bytes
from fieldkit.crypto.canonical_json import canonical_dumps
from fieldkit.crypto.kdf import KdfParams
from fieldkit.domain.profile import Role
from fieldkit.export.bundle_format import BLOCK, MANIFEST_NAME, SIG_NAME, SUMS_NAME, TarReader
from fieldkit.export.bundle_write import sign_sums
from fieldkit.export.manifest import FORMAT
from fieldkit.services import trust
from fieldkit.services.evidence import EvidenceService
from fieldkit.services.records import RecordService
from fieldkit.storage.base import Base
from fieldkit.storage.vault import Vault
from tests.helpers import STRONG_PASSPHRASE
from tests.pg import coordinator_database


@dataclass
class World:
    root: Path
    coordinator: Vault
    monitor: Vault
    org_card: Path
    device_pub: Path
    usb: Path
    extra: dict[str, Any] = field(default_factory=dict)

    def identities(self) -> list[X25519Identity]:
        with self.coordinator.session() as s:
            return trust.org_identities(s)

    def recipient(self) -> X25519Recipient:
        return self.identities()[0].recipient

    def device_key(self) -> Ed25519PrivateKey:
        return self.monitor.device_signing_key()

    def close(self) -> None:
        self.coordinator.lock()
        self.monitor.lock()
        for vault in self.extra.values():
            if isinstance(vault, Vault):
                vault.lock()


def make_world(
    root: Path, *, label: str = "W-017 laptop", org_name: str = "Test organisation"
) -> World:
    kdf = KdfParams.insecure_for_tests()
    # On a hub's PostgreSQL when the test runs on that backend; monitors stay on their laptops.
    coordinator = Vault.create(
        root / "coordinator",
        STRONG_PASSPHRASE,
        Role.COORDINATOR,
        kdf,
        database=coordinator_database(),
    )
    monitor = Vault.create(root / "monitor", STRONG_PASSPHRASE, Role.MONITOR, kdf)
    trust.init_org(coordinator, org_name)
    card = root / "org.pub"
    trust.write_card(coordinator, card)
    pub = root / "device.pub"
    trust.enrol(monitor, card, pub)
    trust.add_device(coordinator, pub, label)
    usb = root / "usb"
    usb.mkdir()
    return World(root, coordinator, monitor, card, pub, usb)


def add_monitor(world: World, name: str, label: str) -> Vault:
    kdf = KdfParams.insecure_for_tests()
    vault = Vault.create(world.root / name, STRONG_PASSPHRASE, Role.MONITOR, kdf)
    trust.enrol(vault, world.org_card, world.root / f"{name}.pub")
    trust.add_device(world.coordinator, world.root / f"{name}.pub", label)
    world.extra[name] = vault
    return vault


def add_people(vault: Vault, count: int, prefix: str = "W") -> list[str]:
    service = RecordService(vault)
    return [service.add("person", {"pseudonym": f"{prefix}-{i:03d}"}).id for i in range(count)]


def add_evidence(vault: Vault, directory: Path, data: bytes, name: str = "photo.bin") -> str:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_bytes(data)
    return EvidenceService(vault).add(path).item.id


def dump_tables(vault: Vault) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, sorted: two equal dumps mean nothing changed."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with vault.engine.connect() as conn:
        names = [n for n in inspect(conn).get_table_names() if not n.startswith("sqlite_")]
        for name in sorted(names):
            rows = conn.execute(text(f'SELECT * FROM "{name}"')).fetchall()
            out[name] = sorted((tuple(r) for r in rows), key=repr)
    assert "records" in out or Base.metadata.tables
    return out


def store_files(vault: Vault) -> set[str]:
    """Every file of the evidence store and the quarantine (the store's empty lock file, which
    an import takes while it writes, holds no data and is left out)."""
    found = set()
    for folder in (vault.store_dir, vault.quarantine_dir):
        if folder.exists():
            for dirpath, _dirs, files in os.walk(folder):
                found.update(os.path.join(dirpath, f) for f in files)
    found.discard(os.path.join(vault.store_dir, ".lock"))
    return found


# --- taking bundles apart and forging them -------------------------------------------------------


@dataclass
class Member:
    name: bytes
    data: bytes
    typeflag: bytes = b"0"
    linkname: bytes = b""


def unpack(bundle: bytes, identities: list[X25519Identity]) -> list[Member]:
    plain = decrypt_bytes(bundle, identities)
    reader = TarReader(io.BytesIO(plain))
    members = []
    while True:
        header = reader.next()
        if header is None:
            return members
        members.append(Member(header.name.encode(), reader.read_all(1 << 40)))


def raw_header(member: Member, size: int | None = None) -> bytes:
    header = bytearray(BLOCK)
    header[0:100] = member.name[:100].ljust(100, b"\0")
    header[100:108] = b"0000644\0"
    header[108:116] = b"0000000\0"
    header[116:124] = b"0000000\0"
    header[124:136] = format(len(member.data) if size is None else size, "011o").encode() + b"\0"
    header[136:148] = b"00000000000\0"
    header[148:156] = b" " * 8
    header[156:157] = member.typeflag
    header[157:257] = member.linkname[:100].ljust(100, b"\0")
    header[257:263] = b"ustar\0"
    header[263:265] = b"00"
    checksum = sum(header)
    header[148:156] = format(checksum, "06o").encode() + b"\0 "
    return bytes(header)


def pack(members: list[Member], trailer: bytes = b"\0" * (2 * BLOCK)) -> bytes:
    out = bytearray()
    for m in members:
        out += raw_header(m)
        out += m.data
        out += b"\0" * (-len(m.data) % BLOCK)
    out += trailer
    return bytes(out)


def get(members: list[Member], name: str) -> Member:
    for m in members:
        if m.name == name.encode():
            return m
    raise KeyError(name)


def resign(members: list[Member], key: Ed25519PrivateKey, comment: str | None = None) -> None:
    """Recompute SHA256SUMS over every member after the signature and sign it with ``key``."""
    lines = [
        f"{hashlib.sha256(m.data).hexdigest()}  {m.name.decode('latin-1')}\n"
        for m in members
        if m.name not in (SUMS_NAME.encode(), SIG_NAME.encode())
    ]
    sums = "".join(lines).encode("latin-1")
    get(members, SUMS_NAME).data = sums
    if comment is None:
        manifest = get(members, MANIFEST_NAME).data
        comment = _comment_for(manifest)
    get(members, SIG_NAME).data = sign_sums(key, sums, comment).file_bytes()


def _comment_for(manifest_bytes: bytes) -> str:
    import json

    try:
        doc = json.loads(manifest_bytes)
        return (
            f"{FORMAT} bundle={doc['bundle_id']} device={doc['device']['device_id']} "
            f"seq={doc['seq']} manifest={hashlib.sha256(manifest_bytes).hexdigest()}"
        )
    except Exception:
        return "forged"


def set_manifest(members: list[Member], doc: dict[str, Any]) -> None:
    get(members, MANIFEST_NAME).data = canonical_dumps(doc)


def manifest_doc(members: list[Member]) -> dict[str, Any]:
    import json

    value = json.loads(get(members, MANIFEST_NAME).data)
    assert isinstance(value, dict)
    return value


def seal(members: list[Member], recipient: X25519Recipient, **kw: Any) -> bytes:
    return encrypt_bytes(pack(members, **kw), [recipient])


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path
