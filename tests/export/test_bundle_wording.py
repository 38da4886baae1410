"""What an import and a receipt say, in the words a coordinator and a monitor use: every record
count labelled (new, updated, unchanged, conflicts), a next step for each refusal, and a receipt
that says which bundles and how many records and files the organisation now holds."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from fieldkit import i18n
from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.services import bundles
from fieldkit.services.bundles.wording import NEXT_STEPS
from fieldkit.services.records import RecordService
from tests.export.bundle_kit import World, add_evidence, add_people, make_world

pytestmark = pytest.mark.usefixtures("backend")


@pytest.fixture
def world(tmp_path: Path, fast_kdf: object) -> Iterator[World]:
    w = make_world(tmp_path)
    yield w
    w.close()
    i18n.set_language("en")


def test_counts_tell_new_updated_and_unchanged_apart(world: World) -> None:
    people = add_people(world.monitor, 2)
    first = bundles.import_bundle(
        world.coordinator, bundles.export_bundle(world.monitor, world.usb).path
    )
    assert bundles.record_counts_text(first) == "new: 2, updated: 0, unchanged: 0, conflicts: 0"

    # no receipt yet: the next bundle carries both people again, one of them changed, plus one new
    RecordService(world.monitor).update(people[0], {"pseudonym": "W-100"}, 1)
    add_people(world.monitor, 1, prefix="X")
    second = bundles.import_bundle(
        world.coordinator, bundles.export_bundle(world.monitor, world.usb).path
    )
    assert (second.records_new, second.records_updated, second.records_same) == (1, 1, 2)
    assert bundles.record_counts_text(second) == "new: 1, updated: 1, unchanged: 2, conflicts: 0"

    # the same file again: every version is already here
    again = bundles.import_bundle(world.coordinator, Path(second.path))
    assert again.status == "already_imported"
    assert bundles.record_counts_text(again) == "new: 0, updated: 0, unchanged: 4, conflicts: 0"

    i18n.set_language("ru")
    assert bundles.record_counts_text(again) == (
        "новых: 0, обновлённых: 0, без изменений: 4, конфликтов: 0"
    )


def test_a_damaged_bundle_is_refused_with_what_to_do(world: World) -> None:
    add_people(world.monitor, 1)
    path = bundles.export_bundle(world.monitor, world.usb).path
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 1
    damaged = world.usb / "damaged.fkb"
    damaged.write_bytes(bytes(data))
    with pytest.raises(FieldkitError) as caught:
        bundles.import_bundle(world.coordinator, damaged)
    step = bundles.refusal_next_step(caught.value.code.value)
    assert step is not None
    assert step.startswith("What to do: copy the bundle again")
    i18n.set_language("uk")
    assert bundles.refusal_next_step(caught.value.code.value) == (
        "Що робити: скопіюйте пакет ще раз із ноутбука монітора або з флешки (або попросіть "
        "монітора експортувати його знову — там нічого не втрачено) й імпортуйте ще раз. Якщо це "
        "повториться, підозрюйте втручання."
    )


@pytest.mark.parametrize("language", ["uk", "ru"])
def test_every_bundle_refusal_has_a_translated_next_step(language: str) -> None:
    bundle_codes = {c.value for c in ErrorCode if c.value.startswith("bundle_")}
    bundle_codes |= {ErrorCode.NOT_A_BUNDLE.value}
    assert bundle_codes <= set(NEXT_STEPS)
    i18n.set_language(language)
    try:
        for code in NEXT_STEPS:
            step = bundles.refusal_next_step(code)
            assert step, code
            assert step != NEXT_STEPS[code], code
    finally:
        i18n.set_language("en")


def test_a_receipt_says_what_the_organisation_holds_and_what_may_go(world: World) -> None:
    add_people(world.monitor, 2)
    add_evidence(world.monitor, world.root / "src", os.urandom(4000))
    bundles.export_bundle(world.monitor, world.usb)
    report = bundles.import_bundle(world.coordinator, next(world.usb.glob("*.fkb")))
    assert report.receipt
    result = bundles.apply_receipt(world.monitor, Path(report.receipt))
    assert (result.bundles, result.records_held, result.evidence_held, result.erasable) == (
        [1],
        2,
        1,
        1,
    )
    lines = bundles.receipt_summary(result)
    assert lines == [
        "Bundles from this laptop that the organisation has received: 1.",
        "It now holds 2 records and 1 evidence file from this laptop.",
        "Evidence originals on this laptop that the organisation holds and that may now be "
        "erased from here: 1.",
    ]
    assert not any("change" in line for line in lines)
    i18n.set_language("ru")
    assert bundles.receipt_summary(result)[1] == (
        "Теперь у неё хранятся 2 записи и 1 файл доказательств с этого ноутбука."
    )

    bundles.purge_acknowledged(world.monitor)
    again = bundles.apply_receipt(world.monitor, Path(report.receipt))
    assert again.erasable == 0
    i18n.set_language("en")
    assert bundles.receipt_summary(again)[-1] == (
        "No evidence original on this laptop is waiting to be erased."
    )


def test_bundle_numbers_read_as_ranges() -> None:
    assert bundles.seqs_text([3, 1, 2, 5, 7, 8]) == "1–3, 5, 7–8"
    assert bundles.seqs_text([]) == ""


def test_a_record_new_here_is_new_in_every_version(world: World) -> None:
    """Made and changed on the laptop before its first bundle: both versions are new here."""
    [person] = add_people(world.monitor, 1)
    RecordService(world.monitor).update(person, {"pseudonym": "W-101"}, 1)
    path = bundles.export_bundle(world.monitor, world.usb).path
    assert bundles.verify_bundle(world.coordinator, path).records_new == 2
    report = bundles.import_bundle(world.coordinator, path)
    assert bundles.record_counts_text(report) == "new: 2, updated: 0, unchanged: 0, conflicts: 0"
