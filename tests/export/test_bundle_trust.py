"""Organisation keys, the card, enrolment and the trust list: every refusal is specific."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fieldkit.crypto.age import parse_identity_file
from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.services import bundles, trust
from tests.export.bundle_kit import World, make_world

# Each test runs with the coordinator on its own SQLCipher file and on a hub's PostgreSQL.
pytestmark = pytest.mark.usefixtures("backend")


@pytest.fixture
def world(tmp_path: Path, fast_kdf: object) -> Iterator[World]:
    w = make_world(tmp_path)
    yield w
    w.close()


def code_of(call: object, *args: object, **kwargs: object) -> ErrorCode:
    with pytest.raises(FieldkitError) as err:
        call(*args, **kwargs)  # type: ignore[operator]
    assert "{" not in err.value.message()
    return err.value.code


def test_org_keys_once_and_only_for_coordinators(world: World) -> None:
    assert code_of(trust.init_org, world.coordinator, "Again") == ErrorCode.ORG_EXISTS
    assert code_of(trust.init_org, world.monitor, "Org") == ErrorCode.WRONG_ROLE
    assert code_of(bundles.import_bundle, world.monitor, world.root / "x.fkb") == (
        ErrorCode.WRONG_ROLE
    )
    assert code_of(bundles.export_bundle, world.coordinator, world.usb) == ErrorCode.WRONG_ROLE


def test_exported_identity_matches_the_card(world: World) -> None:
    out = world.root / "org.key"
    info = trust.export_identity(world.coordinator, out)
    assert out.stat().st_mode & 0o077 == 0
    assert str(parse_identity_file(out.read_text())[0].recipient) == info.recipient
    assert code_of(trust.export_identity, world.coordinator, out) == ErrorCode.FILE_EXISTS
    card = trust.parse_card(world.org_card.read_bytes(), "org.pub")
    assert [str(r) for r in card.recipients] == [info.recipient]


@pytest.mark.parametrize(
    "edit",
    [
        lambda b: b.replace(b'"name":"Test organisation"', b'"name":"Evil organisation"'),
        lambda b: b[:-20] + b"\n",
        lambda b: b.replace(b"age1", b"age2"),
        lambda b: b"{" + b'"card":{},"card":{},' + b[1:],
        lambda b: b"",
    ],
)
def test_an_altered_card_is_refused(world: World, edit: object) -> None:
    bad = world.root / "bad.pub"
    bad.write_bytes(edit(world.org_card.read_bytes()))  # type: ignore[operator]
    assert code_of(trust.enrol, world.monitor, bad, None) == ErrorCode.ORG_CARD_INVALID


def test_device_keys_are_checked(world: World) -> None:
    bad = world.root / "bad-device.pub"
    for content in [
        b"",
        b"untrusted comment: minisign public key 0000\nRWQAAAAA\n",
        b"untrusted comment: fieldkit device not-a-uuid\n"
        + world.device_pub.read_bytes().split(b"\n")[1],
        b"\xff\xfe",
    ]:
        bad.write_bytes(content)
        assert code_of(trust.add_device, world.coordinator, bad, "X") == (
            ErrorCode.DEVICE_KEY_INVALID
        )
    assert code_of(trust.add_device, world.coordinator, world.device_pub, "") == (
        ErrorCode.INVALID_ARGUMENT
    )


def test_trust_list_relabel_and_revoke(world: World) -> None:
    again = trust.add_device(world.coordinator, world.device_pub, "W-017 new label")
    assert again.label == "W-017 new label"
    (device,) = trust.list_devices(world.coordinator)
    assert device.status == "active"
    revoked = trust.revoke_device(world.coordinator, device.key_id)
    assert revoked.status == "revoked"
    assert revoked.last_good_seq == 0
    assert code_of(trust.revoke_device, world.coordinator, "no such device") == (
        ErrorCode.TRUST_UNKNOWN_DEVICE
    )


def test_not_enrolled_monitor_cannot_export(world: World, tmp_path: Path) -> None:
    from fieldkit.crypto.kdf import KdfParams
    from fieldkit.domain.profile import Role
    from fieldkit.storage.vault import Vault
    from tests.export.bundle_kit import add_people
    from tests.helpers import STRONG_PASSPHRASE

    lone = Vault.create(
        tmp_path / "lone", STRONG_PASSPHRASE, Role.MONITOR, KdfParams.insecure_for_tests()
    )
    try:
        add_people(lone, 1)
        assert code_of(bundles.export_bundle, lone, world.usb) == ErrorCode.NOT_ENROLLED
        assert list(world.usb.iterdir()) == []
    finally:
        lone.lock()
