"""Drafts in the encrypted profile: kept, replaced, discarded, and never carried by a bundle."""

from __future__ import annotations

from pathlib import Path

import pytest

from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.services import bundles
from fieldkit.services.drafts import Draft, DraftService
from fieldkit.storage.vault import Vault
from tests.export.bundle_kit import add_people, make_world, unpack

CANARY = "CANARYDRAFT-Q7"


def test_drafts_are_kept_replaced_and_discarded(new_vault: Vault) -> None:
    service = DraftService(new_vault)
    first = service.save(Draft(key="k1", form_id="person", data={"pseudonym": CANARY}))
    assert first.saved_at
    service.save(
        Draft(
            key="k2",
            form_id="interview",
            data={"account": "x"},
            record_id="r",
            base_revision=3,
            case_id="c",
            context={"confidential": True},
        )
    )
    service.save(Draft(key="k1", form_id="person", data={"pseudonym": CANARY + "-2"}))
    drafts = {d.key: d for d in service.list()}
    assert drafts["k1"].data == {"pseudonym": CANARY + "-2"}
    assert drafts["k2"].base_revision == 3
    assert drafts["k2"].context == {"confidential": True}
    assert drafts["k2"].case_id == "c"
    assert service.discard("k1")
    assert not service.discard("k1")
    assert [d.key for d in service.list()] == ["k2"]
    assert service.discard_all() == 1
    assert service.list() == []


def test_a_bundle_never_carries_a_draft(tmp_path: Path, fast_kdf: object) -> None:
    world = make_world(tmp_path)
    try:
        DraftService(world.monitor).save(
            Draft(key="k1", form_id="person", data={"pseudonym": CANARY})
        )
        # A draft alone is nothing to export: it is not a change of any record.
        with pytest.raises(FieldkitError) as refused:
            bundles.export_bundle(world.monitor, world.usb)
        assert refused.value.code == ErrorCode.NOTHING_TO_EXPORT
        add_people(world.monitor, 1)
        exported = bundles.export_bundle(world.monitor, world.usb)
        raw = exported.path.read_bytes()
        members = unpack(raw, world.identities())
        assert members, "the bundle was opened"
        for member in members:
            assert CANARY.encode() not in member.data
            assert b"draft" not in member.name.lower()
        assert DraftService(world.monitor).list(), "the draft is still on the laptop"
    finally:
        world.close()
