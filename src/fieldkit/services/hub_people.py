"""The people of a hub: grant a coordinator or a lawyer a key slot and a database role, let them
join with their own passphrase, list them, revoke them, and share cases with a lawyer.

The hub's creator holds the master key in their key file and connects as the role that owns the
tables; that role needs CREATEROLE to grant and revoke (``docs/hub.md``). Everyone else joins
with an invitation: ``storage/hub_slots.py`` says what it carries and how the slot works,
``storage/hub_access.py`` what the database lets each role do.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError

from fieldkit.crypto.kdf import KdfParams
from fieldkit.crypto.keys import KeyFile
from fieldkit.crypto.signing import new_signing_key
from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.domain.profile import Role
from fieldkit.services.roles import require_role
from fieldkit.storage import hub_access, hub_slots
from fieldkit.storage.audit import AuditLog, utc_now
from fieldkit.storage.fsutil import FILE_MODE, atomic_write_bytes, make_private_dir
from fieldkit.storage.records.store import RecordStore
from fieldkit.storage.server import HUB_SETTINGS_NAME, HubSettings, parse_database_url, short_reason
from fieldkit.storage.tables.hub import HubPersonRow, HubShareRow
from fieldkit.storage.vault import Vault, check_new_passphrase, keyfile_path, profile_exists


@dataclass(frozen=True)
class Granted:
    label: str
    role: Role
    db_role: str
    invitation: Path
    code: str


@dataclass(frozen=True)
class Person:
    label: str
    role: Role
    db_role: str
    granted_at: str
    granted_by: str
    joined_at: str | None
    revoked_at: str | None

    @property
    def status(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        return "joined" if self.joined_at is not None else "invited"


@dataclass(frozen=True)
class Shared:
    case_id: str
    label: str
    records: int
    evidence: int
    held_back: int


def _require_hub_coordinator(vault: Vault) -> None:
    require_role(vault, Role.COORDINATOR)
    if vault.hub is None:
        raise FieldkitError(ErrorCode.NOT_A_HUB)


def _current_role(vault: Vault) -> str:
    with vault.engine.connect() as conn:
        return str(conn.execute(text("SELECT current_user")).scalar_one())


def _refused(vault: Vault, exc: DBAPIError) -> FieldkitError:
    return FieldkitError(
        ErrorCode.HUB_NOT_PERMITTED, role=_current_role(vault), reason=short_reason(exc)
    )


def grant(vault: Vault, role: Role, label: str, out: Path, kdf: KdfParams | None = None) -> Granted:
    """A key slot and a login role for a new person, and the invitation file for them (its
    one-time code is returned, to be given in person, never beside the file)."""
    _require_hub_coordinator(vault)
    if role not in (Role.COORDINATOR, Role.LAWYER):
        raise FieldkitError(ErrorCode.WRONG_ROLE, needed=Role.LAWYER.label, actual=role.label)
    if not hub_access.valid_label(label):
        raise FieldkitError(
            ErrorCode.INVALID_ARGUMENT,
            detail=f"{label[:60]!r}: letters, digits, '.', '-' and '_', at most 40",
        )
    out = Path(out)
    if out.exists() or out.is_symlink():
        raise FieldkitError(ErrorCode.FILE_EXISTS, path=str(out))
    if not out.parent.is_dir():
        raise FieldkitError(ErrorCode.FOLDER_NOT_FOUND, path=str(out.parent))
    db_role = hub_access.person_role(vault.profile_id, label)
    slot_key = os.urandom(32)
    password = secrets.token_hex(24)
    seed, public = new_signing_key()
    code = hub_slots.new_code()
    invitation = hub_slots.make_invitation(
        slot_key, code, vault.profile_id, label, role, db_role, password, kdf or KdfParams.default()
    )
    partial = out.with_name(out.name + ".partial")
    try:
        try:
            with vault.session() as s:
                existing = s.get(HubPersonRow, label)
                if existing is not None and existing.revoked_at is None:
                    raise FieldkitError(ErrorCode.HUB_PERSON_EXISTS, label=label)
                conn = s.connection()
                hub_access.ensure_access(conn, vault.profile_id)
                hub_access.create_login(
                    conn, db_role, password, hub_access.group_role(vault.profile_id, role.value)
                )
                granted_by = str(conn.execute(text("SELECT current_user")).scalar_one())
                if existing is not None:
                    s.delete(existing)
                    s.flush()
                s.add(
                    HubPersonRow(
                        label=label,
                        role=role.value,
                        db_role=db_role,
                        slot=vault.wrap_master_key(slot_key, label, role.value),
                        device_id=str(uuid.uuid4()),
                        device_public_key=public,
                        device_seed=hub_slots.wrap(
                            slot_key, seed, vault.profile_id, label, role.value, "device"
                        ),
                        granted_at=utc_now(),
                        granted_by=granted_by,
                    )
                )
                AuditLog.append(s, "hub_grant", "hub_person", label, details={"role": role.value})
                # The file is complete before the grant commits; renamed after it.
                atomic_write_bytes(partial, invitation.to_bytes())
        except DBAPIError as exc:
            raise _refused(vault, exc) from exc
        os.replace(partial, out)
        os.chmod(out, FILE_MODE)
    finally:
        with contextlib.suppress(OSError):
            partial.unlink()
    return Granted(label, role, db_role, out, code)


def join(
    path: Path,
    invitation_file: Path,
    code: str,
    passphrase: str,
    database: str,
    store: Path | None = None,
    kdf: KdfParams | None = None,
) -> Vault:
    """A profile folder for the person an invitation names: their key file under their own
    passphrase, ``hub.json`` with the hub's address as their own role. Unlocked to check it."""
    path = Path(path)
    if profile_exists(path):
        raise FieldkitError(ErrorCode.PROFILE_EXISTS, path=str(path))
    invitation = hub_slots.Invitation.read(Path(invitation_file))
    url = parse_database_url(database).set(username=invitation.db_role, password=None)
    check_new_passphrase(passphrase)
    slot_key = invitation.open(code)
    settings = HubSettings(
        database=url.render_as_string(hide_password=False).replace("+psycopg", "", 1),
        store=str(store) if store is not None else None,
        person=invitation.label,
        login=invitation.login,
    )
    kdf = kdf or KdfParams.default()
    created_folder = not path.exists()
    make_private_dir(path)
    try:
        settings.write(path)
        atomic_write_bytes(
            keyfile_path(path),
            KeyFile.wrap(slot_key, passphrase, invitation.profile_id, kdf).to_bytes(),
        )
        try:
            vault = Vault.unlock(path, passphrase)
        except FieldkitError as exc:
            if exc.code == ErrorCode.DATABASE_DAMAGED:
                # The slot was rewrapped when the invitation was first used.
                raise FieldkitError(
                    ErrorCode.HUB_INVITATION_USED, path=str(invitation_file)
                ) from exc
            raise
        try:
            _make_own(vault, path, passphrase, settings, kdf)
        finally:
            vault.lock()
        vault = Vault.unlock(path, passphrase)
    except BaseException:
        for leftover in (keyfile_path(path), path / HUB_SETTINGS_NAME):
            with contextlib.suppress(OSError):
                leftover.unlink()
        if created_folder:
            with contextlib.suppress(OSError):
                path.rmdir()
        raise
    finally:
        for i in range(len(slot_key)):
            slot_key[i] = 0
    return vault


def _make_own(
    vault: Vault, path: Path, passphrase: str, settings: HubSettings, kdf: KdfParams
) -> None:
    """The invitation's slot key and password are replaced by new ones only this folder holds:
    the slot is rewrapped on the server and the role's password changed, so the invitation (and
    anyone who saw it and its code) opens nothing more."""
    person = vault.person
    assert person is not None
    slot_key = os.urandom(32)
    password = secrets.token_hex(24)
    role = person.role.value
    with vault.session() as s:
        s.execute(
            update(HubPersonRow)
            .where(HubPersonRow.label == person.label)
            .values(
                slot=vault.wrap_master_key(slot_key, person.label, role),
                device_seed=hub_slots.wrap(
                    slot_key, person.device_seed, vault.profile_id, person.label, role, "device"
                ),
                joined_at=utc_now(),
            )
        )
        hub_access.set_own_password(s.connection(), password)
    # Committed: from here only the new key opens the slot. (Interrupted right here, the
    # person needs a new invitation.)
    HubSettings(
        database=settings.database,
        store=settings.store,
        person=person.label,
        login=hub_slots.seal_login(slot_key, vault.profile_id, person.label, password),
    ).write(path)
    atomic_write_bytes(
        keyfile_path(path), KeyFile.wrap(slot_key, passphrase, vault.profile_id, kdf).to_bytes()
    )


def people(vault: Vault) -> list[Person]:
    _require_hub_coordinator(vault)
    with vault.session() as s:
        rows = s.execute(select(HubPersonRow).order_by(HubPersonRow.granted_at)).scalars().all()
        return [
            Person(
                r.label,
                Role(r.role),
                r.db_role,
                r.granted_at,
                r.granted_by,
                r.joined_at,
                r.revoked_at,
            )
            for r in rows
        ]


def revoke(vault: Vault, label: str) -> int:
    """The person's slot destroyed, their shares removed, their role unable to log in and out
    of its group, then their open connections ended. Returns how many were ended."""
    _require_hub_coordinator(vault)
    try:
        with vault.session() as s:
            row = s.get(HubPersonRow, label)
            if row is None:
                raise FieldkitError(ErrorCode.HUB_PERSON_UNKNOWN, label=label)
            if row.revoked_at is not None:
                raise FieldkitError(ErrorCode.HUB_ACCESS_REVOKED, label=label)
            db_role = row.db_role
            row.slot = None
            row.device_seed = None
            row.revoked_at = utc_now()
            s.execute(delete(HubShareRow).where(HubShareRow.db_role == db_role))
            hub_access.disable_login(
                s.connection(),
                db_role,
                tuple(
                    hub_access.group_role(vault.profile_id, r) for r in ("coordinator", "lawyer")
                ),
            )
            AuditLog.append(s, "hub_revoke", "hub_person", label)
        # After the commit: a session that opened in between is ended too, and no new one opens.
        with vault.engine.begin() as conn:
            return hub_access.end_sessions(conn, db_role)
    except DBAPIError as exc:
        raise _refused(vault, exc) from exc


def _lawyer_role(vault: Vault, label: str) -> str:
    with vault.session() as s:
        row = s.get(HubPersonRow, label)
        if row is None:
            raise FieldkitError(ErrorCode.HUB_PERSON_UNKNOWN, label=label)
        if row.revoked_at is not None:
            raise FieldkitError(ErrorCode.HUB_ACCESS_REVOKED, label=label)
        if row.role != Role.LAWYER.value:
            raise FieldkitError(
                ErrorCode.WRONG_ROLE, needed=Role.LAWYER.label, actual=Role(row.role).label
            )
        return row.db_role


def share(vault: Vault, case_id: str, label: str) -> Shared:
    """Let the lawyer ``label`` read the case on the hub: the case and what the disclosure policy
    lets a lawyer have of it, as it stands now (share again after adding to the case). A record
    or evidence item the policy would hand over only with parts hidden is held back whole: the
    database can show a row or not, not half of it."""
    _require_hub_coordinator(vault)
    from fieldkit.services.disclosure_counsel import disclosed_case_for_counsel
    from fieldkit.services.evidence import EvidenceService

    db_role = _lawyer_role(vault, label)
    content = disclosed_case_for_counsel(vault, case_id)
    evidence = EvidenceService(vault)
    store = RecordStore(vault.device_id)
    partial = {e.id for e in content.withheld if e.kind == "field"}
    items: list[tuple[str, str]] = []
    held_back = 0
    with vault.session() as s:
        for doc in content.records:
            record_id = str(doc["id"])
            whole = record_id not in partial and doc["data"] == store.get(s, record_id).data
            if whole or record_id == case_id:
                items.append((record_id, "record"))
            else:
                held_back += 1
    for item in content.evidence:
        original = evidence.metadata_doc(item.item_id)
        original["embedded_metadata"] = None
        if original == item.doc:
            items.append((item.item_id, "evidence"))
        else:
            held_back += 1
    now = utc_now()
    with vault.session() as s:
        s.execute(
            delete(HubShareRow).where(
                HubShareRow.db_role == db_role, HubShareRow.case_id == case_id
            )
        )
        for item_id, kind in dict(items).items():
            s.add(
                HubShareRow(
                    db_role=db_role, case_id=case_id, item_id=item_id, kind=kind, shared_at=now
                )
            )
        AuditLog.append(
            s, "hub_share", "record", case_id, details={"with": label, "items": len(items)}
        )
    records = sum(1 for _, kind in items if kind == "record")
    return Shared(case_id, label, records, len(items) - records, held_back)


def unshare(vault: Vault, case_id: str, label: str) -> int:
    _require_hub_coordinator(vault)
    with vault.session() as s:
        row = s.get(HubPersonRow, label)
        if row is None:
            raise FieldkitError(ErrorCode.HUB_PERSON_UNKNOWN, label=label)
        result = s.execute(
            delete(HubShareRow).where(
                HubShareRow.db_role == row.db_role, HubShareRow.case_id == case_id
            )
        )
        removed = getattr(result, "rowcount", 0)
        AuditLog.append(s, "hub_unshare", "record", case_id, details={"with": label})
    return int(removed or 0)
