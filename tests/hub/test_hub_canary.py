"""A copy of a hub's database reveals no record content and no name: canaries in every field,
then ``pg_dump`` and look for them. The hub still searches, shows and exports them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from fieldkit.domain.evidence import EvidenceInput
from fieldkit.services import bundles
from fieldkit.services.evidence import EvidenceService
from fieldkit.services.records import CaseService, RecordService
from fieldkit.services.search import SearchService
from fieldkit.storage.drafts import put_draft
from fieldkit.storage.search import fold_text
from fieldkit.storage.tables.evidence import EvidenceItemRow
from fieldkit.storage.vault import Vault
from tests import pg
from tests.export.bundle_kit import World, make_world

CANARIES = {
    "person_name": "CANARYNAME-Q7",
    "person_background": "Canarybackground Q7text",
    "case_title": "CANARYCASE-Q7 катуваннязахід",
    "person_edit": "CANARYEDIT-Q7",
    "evidence_title": "CANARYEVTITLE-Q7",
    "evidence_description": "CANARYEVDESC-Q7",
    "evidence_creator": "CANARYCREATOR-Q7",
    "evidence_source": "CANARYSOURCE-Q7",
    "evidence_file": "CANARYFILE-Q7",
    "device_label": "CANARYLABEL-Q7",
    "org_name": "CANARYORG-Q7",
    "draft": "CANARYDRAFT-Q7",
}


@pytest.fixture
def hub_world(tmp_path: Path, pg_cluster: pg.Cluster, fast_kdf: object) -> Iterator[World]:
    names: list[str] = []

    def database() -> str:
        names.append(pg_cluster.new_database())
        return pg_cluster.url(names[-1])

    with pg.profiles_on(database):
        world = make_world(tmp_path, label=CANARIES["device_label"], org_name=CANARIES["org_name"])
    world.extra["database"] = names[0]
    yield world
    world.close()
    for name in names:
        pg_cluster.drop_database(name)


def _needles(value: str) -> list[bytes]:
    forms = {value, value.lower(), value.upper(), fold_text(value).lower()}
    for word in value.split():
        forms.update({word, word.lower()})
    return [f.encode() for f in forms if len(f) >= 6]


def test_a_dump_of_the_hub_holds_no_canary(hub_world: World, pg_cluster: pg.Cluster) -> None:
    monitor, hub = hub_world.monitor, hub_world.coordinator
    records = RecordService(monitor)
    person = records.add(
        "person",
        {
            "pseudonym": "W-777",
            "name": CANARIES["person_name"],
            "health": CANARIES["person_background"],
        },
    )
    case = CaseService(monitor).add(CANARIES["case_title"])
    source = hub_world.root / "src" / f"{CANARIES['evidence_file']}.bin"
    source.parent.mkdir()
    source.write_bytes(os.urandom(4096))
    EvidenceService(monitor).add(
        source,
        case_id=case.id,
        info=EvidenceInput(
            title=CANARIES["evidence_title"],
            description=CANARIES["evidence_description"],
            creator=CANARIES["evidence_creator"],
            obtained_from=CANARIES["evidence_source"],
        ),
        make_preview=False,
    )
    exported = bundles.export_bundle(monitor, hub_world.usb)
    bundles.import_bundle(hub, exported.path, write_receipt=False)

    # The hub works on what it cannot store in the clear.
    hub_records = RecordService(hub)
    shown = hub_records.get(person.id)
    assert shown.data["name"] == CANARIES["person_name"]
    hub_records.update(
        person.id, {**shown.data, "occupation": CANARIES["person_edit"]}, shown.revision
    )
    found = SearchService(hub).search("canaryedit").hits
    assert [h.record_id for h in found] == [person.id]
    assert [h.record_id for h in SearchService(hub).search("катуваннязах").hits] == [case.id]
    assert [h.record_id for h in SearchService(hub).search("CANARYCASE").hits] == [case.id]
    assert SearchService(hub).search("canaryname-q7").hits
    with hub.session() as s:
        assert s.execute(select(func.count()).select_from(EvidenceItemRow)).scalar_one() == 1
        titles = s.execute(select(EvidenceItemRow.title)).scalars().all()
        assert titles == [CANARIES["evidence_title"]]
        put_draft(
            s,
            key="0" * 36,
            form_id="person",
            record_id=person.id,
            base_revision=2,
            case_id=None,
            data=f'{{"name": "{CANARIES["draft"]}"}}',
            context="{}",
            saved_at="2026-01-01T00:00:00+00:00",
        )

    dump = pg_cluster.dump(str(hub_world.extra["database"]))
    assert b"record_versions" in dump  # a real dump of the real tables
    assert person.id.encode() in dump  # rows are in it: ids stay in the clear
    leaks = {key: n for key, value in CANARIES.items() for n in _needles(value) if n in dump}
    assert leaks == {}


def test_a_value_altered_on_the_server_is_refused(hub_world: World, pg_cluster: pg.Cluster) -> None:
    """The administrator writes a plain value (or another column's sealed value) in place of a
    sealed one: the hub refuses to read it as anything but damage."""
    from fieldkit.domain.errors import ErrorCode, FieldkitError

    hub: Vault = hub_world.coordinator
    case = CaseService(hub).add("Скарга CANARYALTER-Q7")
    other = CaseService(hub).add("Інша справа")
    database = str(hub_world.extra["database"])
    pg_cluster.psql(
        "UPDATE records SET title = (SELECT data FROM records WHERE id = "
        f"'{other.id}') WHERE id = '{case.id}'",
        database=database,
    )
    with pytest.raises(FieldkitError) as excinfo:
        RecordService(hub).get(case.id)
    assert excinfo.value.code == ErrorCode.DATABASE_DAMAGED
    pg_cluster.psql(
        f"UPDATE records SET data = convert_to('{{}}', 'UTF8') WHERE id = '{other.id}'",
        database=database,
    )
    with pytest.raises(FieldkitError) as excinfo:
        RecordService(hub).get(other.id)
    assert excinfo.value.code == ErrorCode.DATABASE_DAMAGED
