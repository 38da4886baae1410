"""The vault: the profile's lock.

A passphrase goes through Argon2id to a key-encryption key, which unwraps a random 256-bit master
key kept in the small ``keyfile``. Every other key comes from the master key through HKDF: the
SQLCipher raw key, the evidence store key, and so on. Changing the passphrase rewraps 32 bytes;
erasing destroys the key file first, after which nothing left in the folder can be decrypted.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, Engine, insert, select, text
from sqlalchemy.exc import DatabaseError as SADatabaseError
from sqlalchemy.orm import Session, sessionmaker

from fieldkit.crypto.kdf import KdfParams
from fieldkit.crypto.keys import (
    KeyFile,
    KeyFileDamaged,
    WrongPassphrase,
    derive_subkey,
    new_master_key,
)
from fieldkit.crypto.passphrase import estimate
from fieldkit.crypto.signing import fingerprint, load_private, new_signing_key
from fieldkit.domain.errors import N_, ErrorCode, FieldkitError, TranslatableText
from fieldkit.domain.profile import Role
from fieldkit.storage import hub_slots, migrate, sealing
from fieldkit.storage.engine import DatabaseUnreadable, connect_raw, open_engine
from fieldkit.storage.fsutil import (
    FILE_MODE,
    atomic_write_bytes,
    destroy_file,
    fsync_dir,
    make_private_dir,
)

# Re-exported: the file names were defined here before storage/profile_files.py held them.
from fieldkit.storage.profile_files import DATABASE_NAME as DATABASE_NAME
from fieldkit.storage.profile_files import HUB_SETTINGS_NAME as HUB_SETTINGS_NAME
from fieldkit.storage.profile_files import KEYFILE_NAME as KEYFILE_NAME
from fieldkit.storage.profile_files import PENDING_KEYFILE_NAME as PENDING_KEYFILE_NAME
from fieldkit.storage.profile_files import database_path as database_path
from fieldkit.storage.profile_files import keyfile_path as keyfile_path
from fieldkit.storage.profile_files import profile_exists as profile_exists
from fieldkit.storage.server import HubSettings, open_server_engine, shown_url
from fieldkit.storage.tables.profile import ProfileMeta
from fieldkit.storage.tables.sealed import seal_rows

SQLCIPHER_PURPOSE = "sqlcipher"


@dataclass(frozen=True)
class IntegrityReport:
    ok: bool
    cipher_problems: tuple[str, ...]
    sqlite_problems: tuple[str, ...]


def read_keyfile(path: Path) -> KeyFile:
    kf = keyfile_path(path)
    if not kf.exists():
        if database_path(path).exists() or (path / HUB_SETTINGS_NAME).exists():
            raise FieldkitError(ErrorCode.KEYFILE_MISSING, path=str(kf))
        raise FieldkitError(ErrorCode.PROFILE_NOT_FOUND, path=str(path))
    try:
        return KeyFile.from_bytes(kf.read_bytes())
    except KeyFileDamaged as exc:
        raise FieldkitError(ErrorCode.KEYFILE_DAMAGED, path=str(kf), reason=str(exc)) from exc


def check_new_passphrase(passphrase: str) -> None:
    strength = estimate(passphrase)
    if not strength.acceptable:
        # zxcvbn's feedback sentences are in the catalogues, so the reason is shown translated.
        reason = strength.warning or (strength.suggestions[0] if strength.suggestions else "")
        raise FieldkitError(
            ErrorCode.WEAK_PASSPHRASE,
            reason=TranslatableText(reason or N_("it would be too easy to guess")),
        )


class Vault:
    """An unlocked profile. Create with :meth:`create` or :meth:`unlock`; end with :meth:`lock`."""

    def __init__(
        self,
        path: Path,
        keyfile: KeyFile,
        master_key: bytearray,
        engine: Engine,
        hub: HubSettings | None = None,
        person: hub_slots.HubPerson | None = None,
    ) -> None:
        self.path = path
        self.hub = hub
        # A person who joined the hub with a key slot (None: the hub's creator, or a profile
        # with its own file).
        self.person = person
        self._keyfile = keyfile
        self._master_key: bytearray | None = master_key
        self._engine: Engine | None = engine
        self._sessionmaker = sessionmaker(engine, expire_on_commit=False)
        with self.session() as s:
            # Not the signing key: a lawyer's role on a hub may not read it.
            meta = s.execute(
                select(
                    ProfileMeta.profile_id,
                    ProfileMeta.role,
                    ProfileMeta.device_id,
                    ProfileMeta.created_at,
                    ProfileMeta.device_public_key,
                )
            ).one_or_none()
            if meta is None:
                raise FieldkitError(
                    ErrorCode.DATABASE_DAMAGED,
                    path=self.database_location,
                    reason="the profile's identity row is missing",
                )
            if meta.profile_id != keyfile.profile_id:
                raise FieldkitError(
                    ErrorCode.DATABASE_DAMAGED,
                    path=self.database_location,
                    reason="the database belongs to another profile",
                )
            self.profile_id: str = meta.profile_id
            self.role = Role(meta.role)
            self.device_id: str = meta.device_id
            self.created_at: str = meta.created_at
            self.device_public_key: bytes = bytes(meta.device_public_key)
        if person is not None:
            self.role = person.role
            if person.role == Role.LAWYER:
                # A lawyer signs the PDFs they make with a key of their own, not the hub's.
                self.device_id = person.device_id
                self.device_public_key = person.device_public_key

    # -- creation and unlocking --------------------------------------------------------------

    @classmethod
    def create(
        cls,
        path: Path,
        passphrase: str,
        role: Role = Role.MONITOR,
        kdf: KdfParams | None = None,
        check_strength: bool = True,
        *,
        database: str | None = None,
        store: Path | None = None,
    ) -> Vault:
        """A new profile: its own SQLCipher file, or with ``database`` (a ``postgresql://``
        address of an empty database) a hub whose records live on that server."""
        path = Path(path)
        if profile_exists(path):
            raise FieldkitError(ErrorCode.PROFILE_EXISTS, path=str(path))
        if check_strength:
            check_new_passphrase(passphrase)
        kdf = kdf or KdfParams.default()
        if database is not None:
            hub = HubSettings(database=database, store=str(store) if store is not None else None)
            return cls._create_hub(path, passphrase, role, kdf, hub)
        make_private_dir(path)
        profile_id = str(uuid.uuid4())
        master_key = new_master_key()
        db = database_path(path)
        engine: Engine | None = None
        try:
            # The database first, the key file last: a profile without a key file is not a profile.
            engine = open_engine(db, derive_subkey(master_key, SQLCIPHER_PURPOSE))
            db.touch(mode=FILE_MODE, exist_ok=True)
            os.chmod(db, FILE_MODE)
            migrate.upgrade(engine)
            with engine.begin() as conn:
                _insert_identity(conn, profile_id, role)
            keyfile = KeyFile.wrap(master_key, passphrase, profile_id, kdf)
            atomic_write_bytes(keyfile_path(path), keyfile.to_bytes())
        except BaseException:
            if engine is not None:
                engine.dispose()
            for leftover in (keyfile_path(path), db, *_sidecars(db)):
                with contextlib.suppress(OSError):
                    leftover.unlink()
            raise
        return cls(path, keyfile, master_key, engine)

    @classmethod
    def _create_hub(
        cls, path: Path, passphrase: str, role: Role, kdf: KdfParams, hub: HubSettings
    ) -> Vault:
        """The schema and the identity row in one server transaction (PostgreSQL's DDL is
        transactional), then the settings and the key file: a failure leaves the database
        empty and no profile folder behind."""
        engine = open_server_engine(hub.database)
        created_folder = not path.exists()
        master_key = new_master_key()
        _attach_keys(engine, master_key)
        try:
            if migrate.holds_fieldkit_data(engine):
                raise FieldkitError(ErrorCode.DATABASE_NOT_EMPTY, url=shown_url(hub.database))
            make_private_dir(path)
            profile_id = str(uuid.uuid4())
            with engine.begin() as conn:
                migrate.upgrade_connection(conn)
                _insert_identity(conn, profile_id, role)
            hub.write(path)
            keyfile = KeyFile.wrap(master_key, passphrase, profile_id, kdf)
            atomic_write_bytes(keyfile_path(path), keyfile.to_bytes())
        except BaseException:
            engine.dispose()
            for leftover in (keyfile_path(path), path / HUB_SETTINGS_NAME):
                with contextlib.suppress(OSError):
                    leftover.unlink()
            if created_folder:
                with contextlib.suppress(OSError):
                    path.rmdir()
            raise
        return cls(path, keyfile, master_key, engine, hub)

    @classmethod
    def unlock(cls, path: Path, passphrase: str) -> Vault:
        path = Path(path)
        keyfile = read_keyfile(path)
        try:
            master_key = keyfile.unwrap(passphrase)
        except WrongPassphrase:
            raise FieldkitError(ErrorCode.WRONG_PASSPHRASE) from None
        # A change of passphrase that was interrupted before its rename leaves this behind.
        with contextlib.suppress(OSError):
            destroy_file(path / PENDING_KEYFILE_NAME)
        hub = HubSettings.read(path)
        if hub is not None:
            return cls._unlock_hub(path, keyfile, master_key, hub)
        db = database_path(path)
        if not db.exists():
            raise FieldkitError(ErrorCode.DATABASE_MISSING, path=str(db))
        engine = open_engine(db, derive_subkey(master_key, SQLCIPHER_PURPOSE))
        try:
            migrate.migrate_on_unlock(engine, db, path / "backups")
            return cls(path, keyfile, master_key, engine)
        except (DatabaseUnreadable, SADatabaseError) as exc:
            engine.dispose()
            raise FieldkitError(
                ErrorCode.DATABASE_DAMAGED, path=str(db), reason=_short_reason(exc)
            ) from exc
        except BaseException:
            engine.dispose()
            raise

    @classmethod
    def _unlock_hub(
        cls, path: Path, keyfile: KeyFile, master_key: bytearray, hub: HubSettings
    ) -> Vault:
        person: hub_slots.HubPerson | None = None
        if hub.person is not None:
            # The key file opened this person's slot key; their row on the server opens the
            # master key (revoked: the row's wrapped key is gone).
            slot_key = master_key
            password = hub_slots.open_login(
                bytes(slot_key), keyfile.profile_id, hub.person, hub.login or ""
            )
            engine = open_server_engine(hub.database, password)
            try:
                with engine.connect() as conn:
                    master_key, person = hub_slots.open_slot(
                        conn, keyfile.profile_id, hub.person, bytes(slot_key)
                    )
            except BaseException:
                engine.dispose()
                raise
            finally:
                for i in range(len(slot_key)):
                    slot_key[i] = 0
        else:
            engine = open_server_engine(hub.database)
        _attach_keys(engine, master_key)
        try:
            if person is not None and person.role != Role.COORDINATOR:
                current, expected = migrate.current_revision(engine), migrate.expected_head()
                if current != expected:
                    raise FieldkitError(
                        ErrorCode.HUB_SCHEMA_BEHIND, revision=current or "-", expected=expected
                    )
            else:
                migrate.migrate_server(engine)
            return cls(path, keyfile, master_key, engine, hub, person)
        except SADatabaseError as exc:
            engine.dispose()
            raise FieldkitError(
                ErrorCode.DATABASE_DAMAGED,
                path=shown_url(hub.database),
                reason=_short_reason(exc),
            ) from exc
        except BaseException:
            engine.dispose()
            raise

    # -- using an unlocked vault --------------------------------------------------------------

    @property
    def is_locked(self) -> bool:
        return self._engine is None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise FieldkitError(ErrorCode.PROFILE_LOCKED)
        return self._engine

    @property
    def kdf(self) -> KdfParams:
        return self._keyfile.kdf

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """One unit of work: commits when the block ends normally, rolls back otherwise."""
        if self._engine is None:
            raise FieldkitError(ErrorCode.PROFILE_LOCKED)
        with self._sessionmaker() as session, session.begin():
            yield session

    @contextlib.contextmanager
    def reading(self) -> Iterator[Session]:
        """A unit of work of one reading statement (a list page, a count). On a hub it runs
        without BEGIN and COMMIT, two round trips of three: one statement sees only committed
        imports all the same. On a profile's own SQLCipher file it is :meth:`session`."""
        if self._engine is None:
            raise FieldkitError(ErrorCode.PROFILE_LOCKED)
        if self.hub is None:
            with self.session() as session:
                yield session
            return
        with (
            self._engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn,
            self._sessionmaker(bind=conn) as session,
        ):
            yield session

    def subkey(self, purpose: str, length: int = 32) -> bytes:
        if self._master_key is None:
            raise FieldkitError(ErrorCode.PROFILE_LOCKED)
        return derive_subkey(self._master_key, purpose, length)

    def device_signing_key(self) -> Ed25519PrivateKey:
        if self.person is not None and self.person.role == Role.LAWYER:
            return load_private(self.person.device_seed)
        with self.session() as s:
            seed = s.execute(select(ProfileMeta.device_signing_key)).scalar_one()
        return load_private(bytes(seed))

    @property
    def device_key_fingerprint(self) -> str:
        return fingerprint(self.device_public_key)

    @property
    def backend(self) -> str:
        """ "sqlite" for a profile with its own SQLCipher file, "postgresql" for a hub."""
        return "sqlite" if self.hub is None else "postgresql"

    @property
    def database_location(self) -> str:
        """Where the records are, for messages: the file, or the server address (no password)."""
        if self.hub is not None:
            return shown_url(self.hub.database)
        return str(database_path(self.path))

    @property
    def store_dir(self) -> Path:
        if self.hub is not None and self.hub.store is not None:
            return Path(self.hub.store)
        return self.path / "store"

    @property
    def quarantine_dir(self) -> Path:
        return self.path / "quarantine"

    @property
    def tmp_dir(self) -> Path:
        return self.path / "tmp"

    def lock(self) -> None:
        """Dispose of the engine (closing every keyed connection) and drop the keys."""
        if self._engine is not None:
            self._engine.dispose()
            sealing.detach(self._engine.dialect)
            self._engine = None
        if self._master_key is not None:
            for i in range(len(self._master_key)):
                self._master_key[i] = 0
            self._master_key = None

    def __enter__(self) -> Vault:
        return self

    def __exit__(self, *exc: object) -> None:
        self.lock()

    # -- maintenance ----------------------------------------------------------------------

    def check(self) -> IntegrityReport:
        """SQLCipher's page HMAC check over the whole file and SQLite's own integrity check."""
        if self._master_key is None:
            raise FieldkitError(ErrorCode.PROFILE_LOCKED)
        if self.hub is not None:
            return _server_integrity(self.engine)
        return _integrity(
            database_path(self.path), derive_subkey(self._master_key, SQLCIPHER_PURPOSE)
        )

    def wrap_master_key(self, key: bytes, label: str, role: str) -> bytes:
        """The master key wrapped under a new person's slot key (``hub grant``)."""
        if self._master_key is None:
            raise FieldkitError(ErrorCode.PROFILE_LOCKED)
        return hub_slots.wrap(key, bytes(self._master_key), self.profile_id, label, role, "master")

    def database_revision(self) -> str | None:
        return migrate.current_revision(self.engine)


def check_database(path: Path, passphrase: str) -> IntegrityReport:
    """The integrity checks without opening the profile, for a database too damaged to unlock."""
    keyfile = read_keyfile(Path(path))
    try:
        master_key = keyfile.unwrap(passphrase)
    except WrongPassphrase:
        raise FieldkitError(ErrorCode.WRONG_PASSPHRASE) from None
    hub = HubSettings.read(Path(path))
    if hub is not None:
        engine = open_server_engine(hub.database)
        try:
            return _server_integrity(engine)
        finally:
            engine.dispose()
    db = database_path(Path(path))
    if not db.exists():
        raise FieldkitError(ErrorCode.DATABASE_MISSING, path=str(db))
    return _integrity(db, derive_subkey(master_key, SQLCIPHER_PURPOSE))


def _server_integrity(engine: Engine) -> IntegrityReport:
    """On a server the pages are the server's business; what we check is that every table of
    the schema answers and the identity row is there."""
    problems: list[str] = []
    try:
        with engine.connect() as conn:
            for table in migrate.schema_tables():
                # A lawyer's role reads only some tables: the others are not theirs to check.
                readable = conn.execute(
                    text("SELECT has_table_privilege(current_user, :t, 'SELECT')"), {"t": table}
                ).scalar_one()
                if readable:
                    conn.execute(text(f'SELECT 1 FROM "{table}" LIMIT 1'))
            if conn.execute(select(ProfileMeta.id)).first() is None:
                problems.append("the profile's identity row is missing")
    except SADatabaseError as exc:
        problems.append(_short_reason(exc))
    return IntegrityReport(ok=not problems, cipher_problems=(), sqlite_problems=tuple(problems))


def _attach_keys(engine: Engine, master_key: bytearray) -> None:
    """A hub seals what it stores: the keys go where the column types find them."""
    sealing.attach(
        engine.dialect,
        sealing.HubKeys(
            derive_subkey(master_key, sealing.SEAL_PURPOSE),
            derive_subkey(master_key, sealing.TOKEN_PURPOSE),
        ),
    )


def _insert_identity(conn: Connection, profile_id: str, role: Role) -> None:
    seed, public = new_signing_key()
    row = {
        "id": 1,
        "profile_id": profile_id,
        "role": role.value,
        "device_id": str(uuid.uuid4()),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "device_signing_key": seed,
        "device_public_key": public,
    }
    conn.execute(insert(ProfileMeta), seal_rows(conn.dialect, ProfileMeta, [row]))


def _integrity(db: Path, key: bytes) -> IntegrityReport:
    cipher: list[str] = []
    sqlite: list[str] = []
    try:
        conn = connect_raw(db, key)
    except DatabaseUnreadable as exc:
        return IntegrityReport(ok=False, cipher_problems=(f"page 1: {exc}",), sqlite_problems=())
    try:
        # The HMAC check reads the main file only, so fold the WAL into it first.
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cipher = [str(row[0]) for row in conn.execute("PRAGMA cipher_integrity_check")]
        try:
            rows = [str(row[0]) for row in conn.execute("PRAGMA integrity_check")]
        except Exception as exc:  # a damaged page can make the check itself fail
            rows = [_short_reason(exc)]
        sqlite = [r for r in rows if r != "ok"]
    finally:
        conn.close()
    return IntegrityReport(
        ok=not cipher and not sqlite, cipher_problems=tuple(cipher), sqlite_problems=tuple(sqlite)
    )


def change_passphrase(path: Path, old: str, new: str, kdf: KdfParams | None = None) -> None:
    """Rewrap the master key under a new passphrase; the database is not touched.

    The new key file is written beside the old one, synced, then renamed over it: at every moment
    the folder holds a complete key file for the old or for the new passphrase.
    """
    path = Path(path)
    keyfile = read_keyfile(path)
    try:
        master_key = keyfile.unwrap(old)
    except WrongPassphrase:
        raise FieldkitError(ErrorCode.WRONG_PASSPHRASE) from None
    check_new_passphrase(new)
    try:
        new_keyfile = KeyFile.wrap(
            master_key, new, keyfile.profile_id, kdf or _strengthened(keyfile.kdf)
        )
        # Written beside the old one, synced, renamed over it: at every moment one complete
        # key file exists, for the old or for the new passphrase.
        atomic_write_bytes(keyfile_path(path), new_keyfile.to_bytes())
    finally:
        for i in range(len(master_key)):
            master_key[i] = 0


def _strengthened(current: KdfParams) -> KdfParams:
    """Keep a profile's own key-derivation cost, raised to today's default where it is lower."""
    default = KdfParams.default()
    return KdfParams(
        memory_kib=max(current.memory_kib, default.memory_kib),
        iterations=max(current.iterations, default.iterations),
        lanes=max(current.lanes, default.lanes),
        salt=default.salt,
    )


def erase(path: Path) -> None:
    """Quick erase: destroy the key files first, then delete everything else, best effort."""
    path = Path(path)
    if not profile_exists(path) and not (path / PENDING_KEYFILE_NAME).exists():
        raise FieldkitError(ErrorCode.PROFILE_NOT_FOUND, path=str(path))
    destroy_file(keyfile_path(path))
    destroy_file(path / PENDING_KEYFILE_NAME)
    # A hub's records stay on the server: erasing this folder removes this person's way in.
    destroy_file(path / HUB_SETTINGS_NAME)
    with contextlib.suppress(OSError):
        fsync_dir(path)
    shutil.rmtree(path, ignore_errors=True)


def _sidecars(db: Path) -> tuple[Path, ...]:
    return (db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm"))


def _short_reason(exc: BaseException) -> str:
    text_ = (
        str(getattr(exc, "orig", None) or exc).splitlines()[0] if str(exc) else type(exc).__name__
    )
    return text_[:200]
