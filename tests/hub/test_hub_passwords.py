"""People at the hub log in with their own database passwords, checked by the server.

The other hub tests run on a cluster that trusts every local connection. Here the server asks
every role but the superuser for its password (SCRAM), as an organisation's server does: a person
joins with the password their invitation carries, fieldkit replaces it with one only their profile
folder holds, and from then on the invitation's password, no password and a profile whose sealed
login was swapped for another person's are all refused by PostgreSQL itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from fieldkit.crypto.kdf import KdfParams
from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.domain.profile import Role
from fieldkit.services import hub_people
from fieldkit.services.records import RecordService
from fieldkit.storage import hub_slots
from fieldkit.storage.server import HUB_SETTINGS_NAME
from fieldkit.storage.vault import Vault
from tests import pg
from tests.helpers import STRONG_PASSPHRASE

pytestmark = pytest.mark.slow

LAWYER_PASSPHRASE = "granite orchard whispers beneath copper tides"
SECOND_PASSPHRASE = "ochre lantern quietly mapping seven harbours"


@pytest.fixture
def password_cluster(tmp_path: Path) -> Iterator[pg.Cluster]:
    cluster = pg.start_cluster(tmp_path / "pg", password_logins=True)
    try:
        cluster.psql("CREATE DATABASE hub")
        yield cluster
    finally:
        pg.remove_cluster(cluster)


def invitation_password(invitation: Path, code: str) -> str:
    opened = hub_slots.Invitation.read(invitation)
    slot_key = opened.open(code)
    return hub_slots.open_login(bytes(slot_key), opened.profile_id, opened.label, opened.login)


def connect_as(cluster: pg.Cluster, role: str, password: str | None) -> psycopg.Connection:
    url = cluster.url("hub", user=role)
    if password is not None:
        url = url.replace(f"{role}@", f"{role}:{password}@", 1)
    return psycopg.connect(url, autocommit=True, connect_timeout=10)


def test_a_joined_person_logs_in_only_with_the_password_their_folder_holds(
    tmp_path: Path, password_cluster: pg.Cluster, fast_kdf: KdfParams
) -> None:
    coordinator = Vault.create(
        tmp_path / "c1",
        STRONG_PASSPHRASE,
        Role.COORDINATOR,
        fast_kdf,
        database=password_cluster.url("hub"),
    )
    try:
        made = RecordService(coordinator).add("person", {"pseudonym": "R-3"})
        lawyer_grant = hub_people.grant(
            coordinator, Role.LAWYER, "L-01", tmp_path / "l1.fkinvite", kdf=fast_kdf
        )
        second_grant = hub_people.grant(
            coordinator, Role.COORDINATOR, "C-02", tmp_path / "c2.fkinvite", kdf=fast_kdf
        )
    finally:
        coordinator.lock()
    first_password = invitation_password(lawyer_grant.invitation, lawyer_grant.code)

    # Before joining, the server takes the invitation's password and nothing else.
    connect_as(password_cluster, lawyer_grant.db_role, first_password).close()
    for wrong in (None, "0" * 48):
        with pytest.raises(psycopg.OperationalError) as refused:
            connect_as(password_cluster, lawyer_grant.db_role, wrong)
        assert "password" in str(refused.value)

    lawyer = hub_people.join(
        tmp_path / "lawyer",
        lawyer_grant.invitation,
        lawyer_grant.code,
        LAWYER_PASSPHRASE,
        password_cluster.url("hub"),
        kdf=fast_kdf,
    )
    lawyer.lock()
    second = hub_people.join(
        tmp_path / "c2",
        second_grant.invitation,
        second_grant.code,
        SECOND_PASSPHRASE,
        password_cluster.url("hub"),
        kdf=fast_kdf,
    )
    try:
        # The second coordinator, logged in with the password only its folder holds, reads the
        # hub's records.
        assert RecordService(second).get(made.id).data["pseudonym"] == "R-3"
    finally:
        second.lock()

    # Joining changed the role's password: the invitation's no longer logs in.
    with pytest.raises(psycopg.OperationalError) as spent:
        connect_as(password_cluster, lawyer_grant.db_role, first_password)
    assert "password authentication failed" in str(spent.value)
    # The lawyer's own folder still opens (its sealed password is the new one).
    Vault.unlock(tmp_path / "lawyer", LAWYER_PASSPHRASE).lock()

    # A folder whose sealed login is replaced by another person's cannot log in as that person:
    # the login opens only under its own slot key and label.
    settings_file = tmp_path / "lawyer" / HUB_SETTINGS_NAME
    settings = json.loads(settings_file.read_text())
    others = json.loads((tmp_path / "c2" / HUB_SETTINGS_NAME).read_text())
    settings["login"] = others["login"]
    settings_file.write_text(json.dumps(settings))
    with pytest.raises(FieldkitError) as swapped:
        Vault.unlock(tmp_path / "lawyer", LAWYER_PASSPHRASE)
    assert swapped.value.code == ErrorCode.KEYFILE_DAMAGED
