"""Every sealed value on a hub is bound to its row: a value moved from one row to another of the
same column (by an administrator, with plain SQL on the real server) does not open, and fieldkit
reports a damaged database naming the place; moved back, it opens again."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.domain.evidence import EvidenceInput
from fieldkit.services import bundles
from fieldkit.services.evidence import EvidenceService
from fieldkit.services.records import CaseService, RecordService
from fieldkit.services.search import SearchService
from fieldkit.storage.base import Base
from fieldkit.storage.drafts import put_draft
from fieldkit.storage.tables.bundles import QuarantinedBundle, TrustedDevice
from fieldkit.storage.tables.counsel import TrustedCounsel
from fieldkit.storage.tables.evidence import EvidenceItemRow, EvidencePreviewRow
from fieldkit.storage.tables.sealed import ROW_IDENTITY, SealedBytes, SealedText
from fieldkit.storage.vault import Vault
from tests import pg
from tests.export.bundle_kit import World, make_world

# One row each by design (CHECK id = 1): nothing to move a value between.
SINGLE_ROW = {"org_keys", "profile_meta"}
NOW = "2026-01-01T00:00:00+00:00"


@pytest.fixture
def hub_world(tmp_path: Path, pg_cluster: pg.Cluster, fast_kdf: object) -> Iterator[World]:
    names: list[str] = []

    def database() -> str:
        names.append(pg_cluster.new_database())
        return pg_cluster.url(names[-1])

    with pg.profiles_on(database):
        world = make_world(tmp_path, label="Device R-1", org_name="Organisation R")
    world.extra["database"] = names[0]
    yield world
    world.close()
    for name in names:
        pg_cluster.drop_database(name)


def _fill(world: World) -> Vault:
    """Two rows or more in every table with sealed columns, written the way fieldkit writes them
    (an imported bundle, then ORM rows on the hub)."""
    monitor, hub = world.monitor, world.coordinator
    records = RecordService(monitor)
    records.add("person", {"pseudonym": "R-1", "name": "Rowname Alpha"})
    case = CaseService(monitor).add("Rowcase Beta")
    folder = world.root / "src"
    folder.mkdir()
    for n in range(2):
        source = folder / f"item-{n}.bin"
        source.write_bytes(os.urandom(2048))
        EvidenceService(monitor).add(
            source,
            case_id=case.id,
            info=EvidenceInput(
                title=f"Item {n}",
                description=f"Described {n}",
                creator=f"Creator {n}",
                obtained_from=f"Source {n}",
            ),
            make_preview=False,
        )
    exported = bundles.export_bundle(monitor, world.usb)
    bundles.import_bundle(hub, exported.path, write_receipt=False)
    CaseService(hub).add("Rowcase Gamma")
    with hub.session() as s:
        items = s.execute(select(EvidenceItemRow.id)).scalars().all()
        for n, item_id in enumerate(items):
            s.add(
                EvidencePreviewRow(
                    item_id=item_id,
                    kind="thumb",
                    media_type="image/jpeg",
                    width=1,
                    height=1,
                    data=f"preview {n}".encode(),
                )
            )
        for n in range(2):
            s.add(
                TrustedDevice(
                    device_id=str(uuid.uuid4()),
                    key_id=f"k{n:015d}",
                    public_key=bytes(32),
                    label=f"Device R-{n + 2}",
                    enrolled_at=NOW,
                    status="active",
                )
            )
            s.add(
                QuarantinedBundle(
                    reason="unknown_signer",
                    key_id=f"q{n:015d}",
                    file_name=f"held-{n}.fkb",
                    received_at=NOW,
                )
            )
            s.add(
                TrustedCounsel(
                    counsel_id=str(uuid.uuid4()),
                    key_id=f"c{n:015d}",
                    signing_public=bytes(32),
                    recipient=f"age1counsel{n}",
                    label=f"Counsel {n}",
                    enrolled_at=NOW,
                    status="active",
                )
            )
            put_draft(
                s,
                key=str(uuid.uuid4()),
                form_id="person",
                record_id=None,
                base_revision=None,
                case_id=None,
                data=f'{{"name": "Draft {n}"}}',
                context="{}",
                saved_at=NOW,
            )
    return hub


def _identity_sql(table: str) -> str:
    return " || '|' || ".join(f"CAST({name} AS TEXT)" for name in ROW_IDENTITY[table])


def _swap(cluster: pg.Cluster, database: str, table: str, column: str) -> None:
    """Exchange ``column`` between the first two rows (by identity) that hold a value; the
    append-only triggers are switched off as the server's administrator can."""
    who = _identity_sql(table)
    cluster.psql(
        "SET session_replication_role = replica; "
        f"WITH pair AS (SELECT {who} AS who, {column} AS v FROM {table} "
        f"WHERE {column} IS NOT NULL ORDER BY 1 LIMIT 2) "
        f"UPDATE {table} SET {column} = (SELECT v FROM pair WHERE pair.who <> {who}) "
        f"WHERE {who} IN (SELECT who FROM pair)",
        database=database,
    )


def _holding(cluster: pg.Cluster, database: str, table: str, column: str) -> int:
    found = cluster.psql(
        f"SELECT count(DISTINCT {column}) FROM {table} WHERE {column} IS NOT NULL",
        database=database,
    )
    return int(found.strip())


def test_a_value_moved_to_another_row_does_not_open(
    hub_world: World, pg_cluster: pg.Cluster
) -> None:
    hub = _fill(hub_world)
    database = str(hub_world.extra["database"])
    tried: set[str] = set()
    for table in Base.metadata.sorted_tables:
        sealed = [c.name for c in table.columns if isinstance(c.type, SealedText | SealedBytes)]
        for column in sealed:
            if _holding(pg_cluster, database, table.name, column) < 2:
                continue
            _swap(pg_cluster, database, table.name, column)
            with pytest.raises(FieldkitError) as excinfo, hub.session() as s:
                s.execute(select(table)).all()
            assert excinfo.value.code == ErrorCode.DATABASE_DAMAGED
            assert str(excinfo.value.params["path"]).startswith(f"{table.name}.{column}, row ")
            assert "is damaged" in excinfo.value.message()
            _swap(pg_cluster, database, table.name, column)  # put back: it opens again
            with hub.session() as s:
                assert len(s.execute(select(table)).all()) >= 2
            tried.add(table.name)
    assert tried == set(ROW_IDENTITY) - SINGLE_ROW


def test_a_case_title_moved_to_another_case_is_reported(
    hub_world: World, pg_cluster: pg.Cluster
) -> None:
    hub: Vault = hub_world.coordinator
    first = CaseService(hub).add("Скарга Rowswap один")
    second = CaseService(hub).add("Скарга Rowswap два")
    database = str(hub_world.extra["database"])
    pg_cluster.psql(
        f"UPDATE records SET title = (SELECT title FROM records WHERE id = '{second.id}') "
        f"WHERE id = '{first.id}'",
        database=database,
    )
    with pytest.raises(FieldkitError) as excinfo:
        RecordService(hub).get(first.id)
    assert excinfo.value.code == ErrorCode.DATABASE_DAMAGED
    assert f"records.title, row {first.id}" in excinfo.value.message()
    assert RecordService(hub).get(second.id).title == "Скарга Rowswap два"


def test_a_search_text_moved_to_another_record_is_reported(
    hub_world: World, pg_cluster: pg.Cluster
) -> None:
    hub: Vault = hub_world.coordinator
    CaseService(hub).add("Rowsearch alpha")
    CaseService(hub).add("Rowsearch beta")
    database = str(hub_world.extra["database"])
    pg_cluster.psql(
        "WITH pair AS (SELECT num, body FROM record_tokens ORDER BY num LIMIT 2) "
        "UPDATE record_tokens SET body = "
        "(SELECT body FROM pair p WHERE p.num <> record_tokens.num) "
        "WHERE num IN (SELECT num FROM pair)",
        database=database,
    )
    with pytest.raises(FieldkitError) as excinfo:
        SearchService(hub).search("rowsearch")
    assert excinfo.value.code == ErrorCode.DATABASE_DAMAGED
