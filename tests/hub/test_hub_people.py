"""Two coordinators and a lawyer on one hub, on a real PostgreSQL server.

The hub is created by a role that is not a superuser (it owns its database and has CREATEROLE,
as an organisation's administrator would set it up). It grants a second coordinator and a
lawyer a key slot and a login role each; they join with their own passphrase through the real
command line; both coordinators import a bundle at the same moment; a case is shared with the
lawyer, who prints its case file; connected as the lawyer's role with psycopg, bypassing
fieldkit, the database shows the shared case and nothing else and refuses every write; revoking
the lawyer ends their connection, disables the role and destroys the slot.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from fieldkit.crypto.kdf import KdfParams
from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.domain.profile import Role
from fieldkit.services import bundles, hub_people
from fieldkit.services.records import RecordService
from fieldkit.storage import hub_slots
from fieldkit.storage.server import HubSettings
from fieldkit.storage.tables.records import RecordRow
from fieldkit.storage.vault import Vault
from tests import pg
from tests.export.bundle_kit import World, add_monitor, add_people, make_world
from tests.export.test_case_packages import set_consent
from tests.export.test_reports import build_sample, pdf_text
from tests.helpers import cli_env, run_cli
from tests.hub.test_hub_concurrency import finished, start_import

pytestmark = pytest.mark.slow

OTHER_PASSPHRASE = "ochre lantern quietly mapping seven harbours"
LAWYER_PASSPHRASE = "granite orchard whispers beneath copper tides"


@dataclass
class Hub:
    world: World
    cluster: pg.Cluster
    database: str
    founder: str

    def url(self, user: str = "") -> str:
        return self.cluster.url(self.database, user=user)

    def as_role(self, role: str) -> object:
        import psycopg

        return psycopg.connect(self.url(role), autocommit=True)


@pytest.fixture
def hub(tmp_path: Path, pg_cluster: pg.Cluster, fast_kdf: object) -> Iterator[Hub]:
    founder = "founder_" + uuid.uuid4().hex[:10]
    pg_cluster.psql(f"CREATE ROLE {founder} LOGIN CREATEROLE")
    database = pg_cluster.new_database()
    pg_cluster.psql(f"ALTER DATABASE {database} OWNER TO {founder}")
    with pg.profiles_on(lambda: pg_cluster.url(database, user=founder)):
        world = make_world(tmp_path)
    # Both coordinators' desktops write evidence to one shared folder.
    settings = HubSettings.read(world.coordinator.path)
    assert settings is not None
    HubSettings(settings.database, store=str(world.coordinator.store_dir)).write(
        world.coordinator.path
    )
    yield Hub(world, pg_cluster, database, founder)
    world.close()
    pg_cluster.drop_database(database)


def join(hub: Hub, invitation: Path, code: str, folder: Path, passphrase: str) -> None:
    joined = run_cli(
        "--json",
        "hub",
        "join",
        str(invitation),
        "--database",
        hub.url(),
        "--store",
        str(hub.world.coordinator.store_dir),
        env=cli_env(folder, passphrase, FIELDKIT_HUB_CODE=code),
    )
    assert joined.returncode == 0, joined.stderr
    assert json.loads(joined.stdout)["label"]


def start_import_as(
    profile: Path, passphrase: str, bundle: Path, receipts: Path
) -> subprocess.Popen[str]:
    receipts.mkdir()
    return subprocess.Popen(
        [sys.executable, "-m", "fieldkit", "--json", "import", str(bundle)]
        + ["--receipt-dir", str(receipts)],
        env=cli_env(profile, passphrase),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def ids(connection: object, sql: str) -> set[str]:
    return {str(row[0]) for row in connection.execute(sql).fetchall()}  # type: ignore[attr-defined]


def test_two_coordinators_and_a_lawyer_on_one_hub(hub: Hub) -> None:
    import psycopg

    world = hub.world
    c1 = world.coordinator
    root = world.root

    # Coordinator 1 grants a second coordinator and a lawyer.
    to_c2 = hub_people.grant(c1, Role.COORDINATOR, "C-02", root / "c2.fkinvite")
    to_lawyer = hub_people.grant(c1, Role.LAWYER, "L-01", root / "l1.fkinvite")
    assert to_c2.code != to_lawyer.code
    with pytest.raises(FieldkitError) as again:
        hub_people.grant(c1, Role.LAWYER, "L-01", root / "other.fkinvite")
    assert again.value.code == ErrorCode.HUB_PERSON_EXISTS
    assert not (root / "other.fkinvite").exists()

    # A wrong code opens nothing and leaves no profile behind.
    wrong = run_cli(
        "hub",
        "join",
        str(to_c2.invitation),
        "--database",
        hub.url(),
        env=cli_env(root / "c2", OTHER_PASSPHRASE, FIELDKIT_HUB_CODE="AAAAA-BBBBB-CCCCC"),
    )
    assert wrong.returncode == 1
    assert "one-time code" in wrong.stderr
    assert not (root / "c2").exists()

    join(hub, to_c2.invitation, to_c2.code, root / "c2", OTHER_PASSPHRASE)
    # Joining replaced the invitation's key and password: it opens nothing more.
    reused = run_cli(
        "hub",
        "join",
        str(to_c2.invitation),
        "--database",
        hub.url(),
        env=cli_env(root / "c2-copy", OTHER_PASSPHRASE, FIELDKIT_HUB_CODE=to_c2.code),
    )
    assert reused.returncode == 1
    assert "used already" in reused.stderr
    assert not (root / "c2-copy").exists()
    settings = HubSettings.read(root / "c2")
    assert settings is not None
    assert settings.person == "C-02"
    assert to_c2.db_role in settings.database
    c2 = Vault.unlock(root / "c2", OTHER_PASSPHRASE)
    try:
        assert c2.person is not None
        assert c2.role == Role.COORDINATOR
        # Only a role with CREATEROLE (here the hub's creator) grants access.
        with pytest.raises(FieldkitError) as no_createrole:
            hub_people.grant(c2, Role.LAWYER, "L-09", root / "l9.fkinvite")
        assert no_createrole.value.code == ErrorCode.HUB_NOT_PERMITTED
        assert not (root / "l9.fkinvite").exists()
    finally:
        c2.lock()
    info = run_cli("--json", "info", env=cli_env(root / "c2", OTHER_PASSPHRASE))
    assert info.returncode == 0, info.stderr
    assert json.loads(info.stdout)["role"] == "coordinator"

    # Both coordinators import a bundle at the same moment: both land.
    other_monitor = add_monitor(world, "monitor-2", "W-018 laptop")
    add_people(world.monitor, 20, prefix="A")
    add_people(other_monitor, 15, prefix="B")
    one = bundles.export_bundle(world.monitor, world.usb).path
    two = bundles.export_bundle(other_monitor, world.usb).path
    first = start_import(c1.path, one, root / "r1")
    second = start_import_as(root / "c2", OTHER_PASSPHRASE, two, root / "r2")
    assert [finished(p)["status"] for p in (first, second)] == ["imported", "imported"]
    with c1.session() as s:
        assert s.execute(select(func.count()).select_from(RecordRow)).scalar_one() == 35

    # A case for the lawyer and another that stays with the coordinators.
    sample = build_sample(c1, root)
    set_consent(c1, sample.interview_id, "share_prosecution", "photographs")
    other_case = RecordService(c1).add(
        "case",
        {
            "title": "Unshared case CANARY-77",
            "case_type": "torture_allegation",
            "monitoring_status": "active",
        },
    )
    join(hub, to_lawyer.invitation, to_lawyer.code, root / "lawyer", LAWYER_PASSPHRASE)
    with pytest.raises(FieldkitError) as not_a_lawyer:
        hub_people.share(c1, sample.case_id, "C-02")
    assert not_a_lawyer.value.code == ErrorCode.WRONG_ROLE
    shared = run_cli(
        "--json", "hub", "share", sample.case_id, "--with", "L-01", env=cli_env(c1.path)
    )
    assert shared.returncode == 0, shared.stderr
    assert json.loads(shared.stdout)["records"] >= 1

    # The lawyer reads the case with fieldkit and prints its case file.
    lawyer_env = cli_env(root / "lawyer", LAWYER_PASSPHRASE)
    shown = run_cli("--json", "record", "show", sample.case_id, env=lawyer_env)
    assert shown.returncode == 0, shown.stderr
    hidden = run_cli("--json", "record", "show", other_case.id, env=lawyer_env)
    assert hidden.returncode == 1
    pdf = root / "case.pdf"
    printed = run_cli("report", "case", sample.case_id, "--out", str(pdf), env=lawyer_env)
    assert printed.returncode == 0, printed.stderr
    assert "ст. 127 КК України" in pdf_text(pdf)
    found = run_cli("--json", "search", "допиту", env=lawyer_env)
    assert found.returncode == 0, found.stderr
    assert sample.case_id in found.stdout
    unshared = run_cli("--json", "search", "CANARY", env=lawyer_env)
    assert unshared.returncode == 0, unshared.stderr
    assert other_case.id not in unshared.stdout
    by_coordinator = run_cli(
        "--json", "search", "CANARY", env=cli_env(root / "c2", OTHER_PASSPHRASE)
    )
    assert other_case.id in by_coordinator.stdout
    checked = run_cli("check", env=lawyer_env)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    refused = run_cli(
        "--json", "record", "delete", sample.case_id, "--revision", "1", env=lawyer_env
    )
    assert refused.returncode == 1
    with c1.session() as s:
        heads = set(s.execute(select(RecordRow.id)).scalars())
    assert {sample.case_id, other_case.id} <= heads

    # Straight to the database as the lawyer's role, without fieldkit.
    with psycopg.connect(hub.url(to_lawyer.db_role), autocommit=True) as lawyer:
        visible = ids(lawyer, "SELECT id FROM records")
        assert sample.case_id in visible
        assert other_case.id not in visible
        assert visible <= {str(i) for i in _shared_items(c1)}
        assert ids(lawyer, "SELECT DISTINCT record_id FROM record_versions") == visible
        tokens = lawyer.execute("SELECT count(*) FROM record_tokens").fetchone()
        assert tokens is not None
        assert tokens[0] == len(visible)
        links = lawyer.execute("SELECT from_id, to_id FROM record_links").fetchall()
        assert all(
            str(a) in visible | _evidence(c1) and str(b) in visible | _evidence(c1)
            for a, b in links
        )
        assert ids(lawyer, "SELECT id FROM evidence_items") <= _evidence(c1)
        assert ids(lawyer, "SELECT label FROM hub_people") == {"L-01"}
        for denied in (
            "SELECT count(*) FROM audit_log",
            "SELECT count(*) FROM trusted_devices",
            "SELECT count(*) FROM org_keys",
            "SELECT device_signing_key FROM profile_meta",
            "UPDATE records SET status = 'closed'",
            "UPDATE hub_people SET role = 'coordinator'",
            "DELETE FROM record_versions",
            "INSERT INTO hub_shares VALUES ('x', 'y', 'z', 'record', 'now')",
            f"INSERT INTO hub_shares VALUES ('{to_lawyer.db_role}', '{other_case.id}', "
            f"'{other_case.id}', 'record', 'now')",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                lawyer.execute(denied)
        # The second coordinator's role sees every row.
        with psycopg.connect(hub.url(to_c2.db_role), autocommit=True) as second_role:
            assert {sample.case_id, other_case.id} <= ids(second_role, "SELECT id FROM records")

        # Revoking the lawyer ends this very connection ...
        listed = run_cli("--json", "hub", "people", env=cli_env(c1.path))
        assert listed.returncode == 0, listed.stderr
        statuses = {p["label"]: p["status"] for p in json.loads(listed.stdout)["people"]}
        assert statuses == {"C-02": "joined", "L-01": "joined"}
        revoked_now = run_cli("--json", "hub", "revoke", "L-01", env=cli_env(c1.path))
        assert revoked_now.returncode == 0, revoked_now.stderr
        assert json.loads(revoked_now.stdout)["sessions_ended"] >= 1
        with pytest.raises(psycopg.OperationalError):
            lawyer.execute("SELECT 1")

    # ... no new one opens ...
    with pytest.raises(psycopg.OperationalError) as no_login:
        psycopg.connect(hub.url(to_lawyer.db_role))
    assert "not permitted to log in" in str(no_login.value)
    after = run_cli("info", env=lawyer_env)
    assert after.returncode == 1
    # ... and even with the role enabled again by an administrator, the slot opens nothing.
    hub.cluster.psql(f"ALTER ROLE {to_lawyer.db_role} LOGIN")
    with pytest.raises(FieldkitError) as revoked:
        Vault.unlock(root / "lawyer", LAWYER_PASSPHRASE)
    assert revoked.value.code == ErrorCode.HUB_ACCESS_REVOKED
    assert {p.label: p.status for p in hub_people.people(c1)}["L-01"] == "revoked"
    # The second coordinator still works.
    still = run_cli("--json", "search", "W-017", env=cli_env(root / "c2", OTHER_PASSPHRASE))
    assert still.returncode == 0, still.stderr


def _shared_items(vault: Vault) -> set[str]:
    from fieldkit.storage.tables.hub import HubShareRow

    with vault.session() as s:
        return set(s.execute(select(HubShareRow.item_id)).scalars())


def _evidence(vault: Vault) -> set[str]:
    from fieldkit.storage.tables.hub import HubShareRow

    with vault.session() as s:
        return set(
            s.execute(select(HubShareRow.item_id).where(HubShareRow.kind == "evidence")).scalars()
        )


def test_hub_commands_need_a_hub_and_a_sound_invitation(
    tmp_path: Path, new_coordinator_vault: Vault
) -> None:
    with pytest.raises(FieldkitError) as no_hub:
        hub_people.grant(new_coordinator_vault, Role.LAWYER, "L-01", tmp_path / "x.fkinvite")
    assert no_hub.value.code == ErrorCode.NOT_A_HUB
    assert not (tmp_path / "x.fkinvite").exists()

    invitation = hub_slots.make_invitation(
        bytes(32),
        "AAAAA-BBBBB",
        "hub-id",
        "L-01",
        Role.LAWYER,
        "fk_x_p_l_01",
        "ab" * 12,
        KdfParams.insecure_for_tests(),
    )
    path = tmp_path / "L-01.fkinvite"
    path.write_bytes(invitation.to_bytes())
    assert hub_slots.Invitation.read(path).open("aaaaabbbbb") == bytearray(32)
    with pytest.raises(FieldkitError) as wrong:
        hub_slots.Invitation.read(path).open("AAAAA-BBBBC")
    assert wrong.value.code == ErrorCode.HUB_CODE_WRONG
    body = json.loads(path.read_text())
    body["role"] = "coordinator"
    path.write_text(json.dumps(body))
    with pytest.raises(FieldkitError) as altered:
        hub_slots.Invitation.read(path)
    assert altered.value.code == ErrorCode.HUB_INVITATION_INVALID
    with pytest.raises(FieldkitError) as bad_join:
        hub_people.join(
            tmp_path / "joined",
            path,
            "AAAAA-BBBBB",
            "granite orchard whispers copper tides",
            "postgresql://server/db",
        )
    assert bad_join.value.code == ErrorCode.HUB_INVITATION_INVALID
    assert not (tmp_path / "joined").exists()
