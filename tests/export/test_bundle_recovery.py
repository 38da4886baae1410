"""Rebuilding a lost coordinator profile, held bundles, the fork alarm and translated texts."""

from __future__ import annotations

import base64
import hashlib
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from fieldkit.crypto.age import parse_identity_file
from fieldkit.crypto.kdf import KdfParams
from fieldkit.crypto.minisign import MinisignPublicKey, MinisignSecretKey, MinisignSignature
from fieldkit.crypto.signing import load_public
from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.domain.profile import Role
from fieldkit.i18n import get_translator
from fieldkit.services import bundles, trust
from fieldkit.storage.tables.bundles import BundleAlarm, ExportState, QuarantinedBundle
from fieldkit.storage.vault import Vault, erase
from tests.export.bundle_kit import (
    World,
    add_evidence,
    add_people,
    make_world,
    manifest_doc,
    resign,
    seal,
    set_manifest,
    unpack,
)
from tests.helpers import STRONG_PASSPHRASE, require_tool

# Each test runs with the coordinator on its own SQLCipher file and on a hub's PostgreSQL.
pytestmark = pytest.mark.usefixtures("backend")


@pytest.fixture
def world(tmp_path: Path, fast_kdf: object) -> Iterator[World]:
    w = make_world(tmp_path)
    yield w
    w.close()


def new_coordinator(path: Path) -> Vault:
    return Vault.create(path, STRONG_PASSPHRASE, Role.COORDINATOR, KdfParams.insecure_for_tests())


def held_files(vault: Vault) -> list[str]:
    folder = vault.quarantine_dir / "held"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


# --- recovery of a lost coordinator profile ------------------------------------------------------


def test_restored_coordinator_imports_old_and_new_bundles_and_its_receipts_are_accepted(
    world: World,
) -> None:
    keys = world.root / "offline-stick"
    keys.mkdir()
    trust.export_identity(world.coordinator, keys / "org.key")
    info = trust.export_signing_key(world.coordinator, keys / "org-sign.key")
    assert stat.S_IMODE((keys / "org-sign.key").stat().st_mode) == 0o600
    assert stat.S_IMODE((keys / "org.key").stat().st_mode) == 0o600
    old = trust.org_info(world.coordinator)
    assert info.key_id == old.key_id

    add_people(world.monitor, 2)
    add_evidence(world.monitor, world.root / "src", b"\x89PNG" + bytes(5000))
    first = bundles.export_bundle(world.monitor, world.usb)
    bundles.import_bundle(world.coordinator, first.path, receipt_dir=world.root)

    # the coordinator's profile is lost
    old_path = world.coordinator.path
    world.coordinator.lock()
    erase(old_path)
    assert not (old_path / "profile.db").exists()

    restored = new_coordinator(world.root / "restored")
    world.coordinator = restored
    with pytest.raises(FieldkitError) as err:
        trust.org_info(restored)
    assert err.value.code == ErrorCode.ORG_NOT_INITIALISED
    info = trust.import_org(restored, keys / "org.key", keys / "org-sign.key")
    assert (info.org_id, info.name, info.key_id, info.recipient, info.created_at) == (
        old.org_id,
        old.name,
        old.key_id,
        old.recipient,
        old.created_at,
    )
    # the card is the same organisation: the monitor's enrolment accepts it unchanged
    card = world.root / "org-restored.pub"
    trust.write_card(restored, card)
    again = trust.enrol(world.monitor, card, None)
    assert again.org_id == old.org_id
    # the device is enrolled again in person, with the same comparison code
    device = trust.add_device(restored, world.device_pub, "W-017 laptop")
    assert device.code == again.code

    add_people(world.monitor, 1, prefix="V")
    second = bundles.export_bundle(world.monitor, world.usb)
    assert second.seq == 2
    out = world.root / "receipts"
    out.mkdir()
    report_old = bundles.import_bundle(restored, first.path, receipt_dir=out)
    assert report_old.status == "imported"
    assert report_old.objects == 1
    report_new = bundles.import_bundle(restored, second.path, receipt_dir=out)
    assert report_new.chain == "linked"
    receipt = Path(report_new.receipt or "")
    applied = bundles.apply_receipt(world.monitor, receipt)
    assert applied.bundles == [1, 2]
    assert applied.acknowledged_through == second.change_through
    with world.monitor.session() as s:
        state = s.get(ExportState, 1)
        assert state is not None
        assert state.acknowledged_through == second.change_through


def test_import_without_signing_key_makes_a_new_one(world: World, tmp_path: Path) -> None:
    trust.export_identity(world.coordinator, tmp_path / "org.key")
    old = trust.org_info(world.coordinator)
    fresh = new_coordinator(tmp_path / "fresh")
    try:
        info = trust.import_org(fresh, tmp_path / "org.key", name="Restored office")
        assert info.recipient == old.recipient
        assert info.key_id != old.key_id
        assert info.org_id != old.org_id
        assert info.name == "Restored office"
        # a bundle written for the old profile still decrypts
        add_people(world.monitor, 1)
        exported = bundles.export_bundle(world.monitor, world.usb)
        trust.add_device(fresh, world.device_pub, "W-017 laptop")
        assert bundles.verify_bundle(fresh, exported.path).ok
    finally:
        fresh.lock()


def test_import_refusals(world: World, tmp_path: Path) -> None:
    trust.export_identity(world.coordinator, tmp_path / "org.key")
    trust.export_signing_key(world.coordinator, tmp_path / "sign.key")
    # a profile that has organisation keys
    with pytest.raises(FieldkitError) as err:
        trust.import_org(world.coordinator, tmp_path / "org.key", tmp_path / "sign.key")
    assert err.value.code == ErrorCode.ORG_EXISTS
    # a monitor profile
    with pytest.raises(FieldkitError) as err:
        trust.import_org(world.monitor, tmp_path / "org.key")
    assert err.value.code == ErrorCode.WRONG_ROLE
    fresh = new_coordinator(tmp_path / "fresh")
    try:
        # the files swapped
        with pytest.raises(FieldkitError) as err:
            trust.import_org(fresh, tmp_path / "sign.key")
        assert err.value.code == ErrorCode.ORG_KEY_INVALID
        assert "age identity" in err.value.message()
        with pytest.raises(FieldkitError) as err:
            trust.import_org(fresh, tmp_path / "org.key", tmp_path / "org.key")
        assert err.value.code == ErrorCode.ORG_KEY_INVALID
        # a damaged signing key
        damaged = tmp_path / "damaged.key"
        lines = (tmp_path / "sign.key").read_text().splitlines()
        raw = bytearray(base64.b64decode(lines[1]))
        raw[70] ^= 1
        damaged.write_text(lines[0] + "\n" + base64.b64encode(bytes(raw)).decode() + "\n")
        with pytest.raises(FieldkitError) as err:
            trust.import_org(fresh, tmp_path / "org.key", damaged)
        assert err.value.code == ErrorCode.ORG_KEY_INVALID
        assert "checksum" in err.value.message()
        # a missing file: a clear reason, translated
        with pytest.raises(FieldkitError) as err:
            trust.import_org(fresh, tmp_path / "nothing.key")
        assert err.value.code == ErrorCode.FILE_NOT_READABLE
        assert "no such file" in err.value.message()
        assert "такого файлу або теки немає" in err.value.message(get_translator("uk"))
        # nothing was stored by the refusals
        with pytest.raises(FieldkitError) as err:
            trust.org_info(fresh)
        assert err.value.code == ErrorCode.ORG_NOT_INITIALISED
        # an existing output file is never overwritten
        with pytest.raises(FieldkitError) as err:
            trust.export_signing_key(world.coordinator, tmp_path / "sign.key")
        assert err.value.code == ErrorCode.FILE_EXISTS
    finally:
        fresh.lock()


def test_signing_key_file_round_trip(world: World, tmp_path: Path) -> None:
    trust.export_signing_key(world.coordinator, tmp_path / "sign.key")
    secret = MinisignSecretKey.parse((tmp_path / "sign.key").read_bytes())
    with world.coordinator.session() as s:
        public = trust.org_public_key(s)
    assert secret.public == public
    assert "fieldkit-org-signing-key/1" in secret.untrusted_comment
    # org public --minisign-out: the same key as a minisign public key file
    card, pub = tmp_path / "card.pub", tmp_path / "org-sign.pub"
    trust.write_card(world.coordinator, card, pub)
    assert MinisignPublicKey.parse(pub.read_text()) == public
    # an identity file holds exactly the organisation's identity
    trust.export_identity(world.coordinator, tmp_path / "org.key")
    (identity,) = parse_identity_file((tmp_path / "org.key").read_text())
    assert str(identity.recipient) == trust.org_info(world.coordinator).recipient


@pytest.mark.tools
def test_exported_keys_work_with_minisign(world: World, tmp_path: Path) -> None:
    minisign = require_tool("minisign")
    trust.export_signing_key(world.coordinator, tmp_path / "sign.key")
    trust.write_card(world.coordinator, tmp_path / "card.pub", tmp_path / "org-sign.pub")
    # minisign signs with the exported key; fieldkit's public key file verifies it
    message = tmp_path / "note.txt"
    message.write_text("W-017 visit 3\n")
    subprocess.run(
        [minisign, "-S", "-s", str(tmp_path / "sign.key"), "-m", str(message)],
        check=True,
        capture_output=True,
        stdin=subprocess.DEVNULL,
        timeout=30,
    )
    checked = subprocess.run(
        [minisign, "-V", "-p", str(tmp_path / "org-sign.pub"), "-m", str(message)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert checked.returncode == 0, checked.stderr
    # a receipt checks with minisign against --minisign-out
    add_people(world.monitor, 1)
    report = bundles.import_bundle(
        world.coordinator, bundles.export_bundle(world.monitor, world.usb).path
    )
    checked = subprocess.run(
        [minisign, "-V", "-p", str(tmp_path / "org-sign.pub"), "-m", str(report.receipt)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert checked.returncode == 0, checked.stderr
    # a key minisign made (without a password) is read by fieldkit
    subprocess.run(
        [minisign, "-G", "-W", "-p", str(tmp_path / "m.pub"), "-s", str(tmp_path / "m.key")],
        check=True,
        capture_output=True,
        stdin=subprocess.DEVNULL,
        timeout=30,
    )
    made = MinisignSecretKey.parse((tmp_path / "m.key").read_bytes())
    assert made.public == MinisignPublicKey.parse((tmp_path / "m.pub").read_text())


# --- held bundles --------------------------------------------------------------------------------


def test_held_bundle_is_resolved_when_the_same_file_imports(world: World, tmp_path: Path) -> None:
    stranger = Vault.create(
        tmp_path / "stranger", STRONG_PASSPHRASE, Role.MONITOR, KdfParams.insecure_for_tests()
    )
    world.extra["stranger"] = stranger
    trust.enrol(stranger, world.org_card, tmp_path / "stranger.pub")
    add_people(stranger, 1)
    exported = bundles.export_bundle(stranger, world.usb)
    for _attempt in range(2):  # the same file refused twice is held once
        with pytest.raises(FieldkitError) as err:
            bundles.import_bundle(world.coordinator, exported.path)
        assert err.value.code == ErrorCode.BUNDLE_UNKNOWN_SIGNER
    held = bundles.list_quarantined(world.coordinator)
    assert len(held) == 1
    assert held[0]["reason"] == "bundle_unknown_signer"
    assert bundles.held_reason_text("bundle_unknown_signer") == (
        "signed by a device that is not enrolled"
    )
    # only what identifies it is kept: no copy, the file's size and SHA-256, the signed head
    assert held_files(world.coordinator) == []
    data = exported.path.read_bytes()
    assert held[0]["held_file"] is False
    assert held[0]["signed_head"] is True
    assert held[0]["file_size"] == len(data)
    assert held[0]["file_sha256"] == hashlib.sha256(data).hexdigest()
    assert held[0]["key_id"] == stranger.device_key_fingerprint
    with world.coordinator.session() as s:
        head = s.execute(select(QuarantinedBundle.signed_head)).scalar_one()
    signature = MinisignSignature.parse(bytes(head))
    assert signature.key_id_hex == stranger.device_key_fingerprint
    # once the key is known, the kept head's signed trusted comment checks against it
    load_public(stranger.device_public_key).verify(
        signature.global_signature, signature.signature + signature.trusted_comment.encode()
    )
    assert f"device={stranger.device_id}" in signature.trusted_comment
    # enrolled in person; the same file now imports and the held entry is resolved
    trust.add_device(world.coordinator, tmp_path / "stranger.pub", "W-031 laptop")
    report = bundles.import_bundle(world.coordinator, exported.path)
    assert report.status == "imported"
    assert report.held_resolved == 1
    assert bundles.list_quarantined(world.coordinator) == []
    assert held_files(world.coordinator) == []


def test_held_bundle_import_and_discard(world: World, tmp_path: Path) -> None:
    stranger = Vault.create(
        tmp_path / "stranger", STRONG_PASSPHRASE, Role.MONITOR, KdfParams.insecure_for_tests()
    )
    world.extra["stranger"] = stranger
    trust.enrol(stranger, world.org_card, tmp_path / "stranger.pub")
    add_people(stranger, 2)
    first = bundles.export_bundle(stranger, world.usb)
    add_people(stranger, 1, prefix="V")
    second = bundles.export_bundle(stranger, world.usb)
    for path in (first.path, second.path):
        with pytest.raises(FieldkitError):
            bundles.import_bundle(world.coordinator, path)
    held = bundles.list_quarantined(world.coordinator)
    assert [h["reason"] for h in held] == ["bundle_unknown_signer"] * 2
    # no copy of an unknown signer's bundle: "import held" says to import the file again
    trust.add_device(world.coordinator, tmp_path / "stranger.pub", "W-031 laptop")
    with pytest.raises(FieldkitError) as err:
        bundles.import_held(world.coordinator, held[0]["id"], receipt_dir=tmp_path)
    assert err.value.code == ErrorCode.FILE_NOT_READABLE
    assert "import the bundle file again" in err.value.message()
    assert len(bundles.list_quarantined(world.coordinator)) == 2
    report = bundles.import_bundle(world.coordinator, first.path, receipt_dir=tmp_path)
    assert report.status == "imported"
    assert report.records_new == 2
    assert report.held_resolved == 1
    remaining = bundles.list_quarantined(world.coordinator)
    assert [h["id"] for h in remaining] == [held[1]["id"]]
    assert held_files(world.coordinator) == []
    # discard the other one: the entry goes, nothing is imported
    discarded = bundles.discard_held(world.coordinator, held[1]["id"])
    assert discarded["id"] == held[1]["id"]
    assert bundles.list_quarantined(world.coordinator) == []
    assert held_files(world.coordinator) == []
    with pytest.raises(FieldkitError) as err:
        bundles.discard_held(world.coordinator, held[1]["id"])
    assert err.value.code == ErrorCode.HELD_BUNDLE_NOT_FOUND
    with pytest.raises(FieldkitError) as err:
        bundles.discard_held(world.monitor, 1)
    assert err.value.code == ErrorCode.WRONG_ROLE


# --- the fork alarm ------------------------------------------------------------------------------


def test_fork_has_its_own_alarm_and_message(world: World) -> None:
    add_people(world.monitor, 1)
    first = bundles.export_bundle(world.monitor, world.usb)
    bundles.import_bundle(world.coordinator, first.path)
    add_people(world.monitor, 1, prefix="V")
    second = bundles.export_bundle(world.monitor, world.usb)
    # bundle 2, properly signed by the device, that does not follow bundle 1
    members = unpack(second.path.read_bytes(), world.identities())
    doc = manifest_doc(members)
    doc["prev"] = "0" * 64
    set_manifest(members, doc)
    resign(members, world.device_key())
    forged = world.usb / "forged.fkb"
    forged.write_bytes(seal(members, world.recipient()))
    with pytest.raises(FieldkitError) as err:
        bundles.import_bundle(world.coordinator, forged)
    assert err.value.code == ErrorCode.BUNDLE_FORK
    message = err.value.message()
    assert "ALARM" in message
    assert "chain" in message
    assert "reuses" not in message
    assert "ТРИВОГА" in err.value.message(get_translator("uk"))
    assert "ТРЕВОГА" in err.value.message(get_translator("ru"))
    with world.coordinator.session() as s:
        alarm = s.execute(select(BundleAlarm)).scalar_one()
        assert alarm.kind == "fork"
        assert s.execute(select(QuarantinedBundle)).scalars().all() == []
    # the real bundle 2 still imports
    assert bundles.import_bundle(world.coordinator, second.path).chain == "linked"


# --- the command line ----------------------------------------------------------------------------


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.slow
def test_recovery_and_held_bundles_by_command_line(tmp_path: Path) -> None:
    import json
    import os
    import shutil

    from fieldkit.services.profile import open_profile
    from tests.helpers import cli_env, run_cli

    coord, mon, usb, keys = (tmp_path / n for n in ("coord", "mon", "usb", "keys"))
    usb.mkdir()
    keys.mkdir()
    c_env, m_env = cli_env(coord), cli_env(mon)
    _ok(run_cli("init", "--role", "coordinator", env=c_env))
    _ok(run_cli("org", "init", "--name", "Test organisation", env=c_env))
    refused = run_cli("org", "export-signing-key", "--out", str(keys / "sign.key"), env=c_env)
    assert refused.returncode == 1
    assert "secret key" in refused.stderr
    assert "destroys" not in refused.stderr
    refused = run_cli("org", "export-identity", "--out", str(keys / "org.key"), env=c_env)
    assert "secret key" in refused.stderr
    _ok(run_cli("org", "export-identity", "--out", str(keys / "org.key"), "--yes", env=c_env))
    _ok(run_cli("org", "export-signing-key", "--out", str(keys / "sign.key"), "--yes", env=c_env))
    pub = keys / "org-sign.pub"
    out = _ok(
        run_cli(
            "org", "public", "--out", str(keys / "org.pub"), "--minisign-out", str(pub), env=c_env
        )
    )
    assert "org-sign.pub" in out
    assert pub.read_text().startswith("untrusted comment: fieldkit organisation signing key")

    _ok(run_cli("init", env=m_env))
    _ok(run_cli("enrol", str(keys / "org.pub"), "--out", str(tmp_path / "dev.pub"), env=m_env))
    os.environ["FIELDKIT_INSECURE_TEST_KDF"] = "1"
    vault = open_profile(mon, STRONG_PASSPHRASE)
    try:
        add_people(vault, 1)
    finally:
        vault.lock()
    missing = run_cli("export", "--to", str(tmp_path / "usb3"), env=m_env)
    assert missing.returncode == 1
    assert "destination folder" in missing.stderr
    assert "does not exist" in missing.stderr
    bundle = Path(json.loads(_ok(run_cli("export", "--to", str(usb), "--json", env=m_env)))["path"])

    # not enrolled yet: held, listed with a translated reason
    assert run_cli("import", str(bundle), env=c_env).returncode == 1
    held = _ok(run_cli("--lang", "uk", "trust", "held", env=c_env))
    assert "незареєстрованим пристроєм" in held
    assert "bundle_unknown_signer" not in held
    _ok(run_cli("trust", "add", str(tmp_path / "dev.pub"), "--label", "W-017 laptop", env=c_env))
    imported = _ok(run_cli("import", str(bundle), env=c_env))
    assert "1 record version (new: 1, updated: 0, unchanged: 0, conflicts: 0)" in imported
    assert "resolved" in imported
    assert json.loads(_ok(run_cli("trust", "held", "--json", env=c_env)))["held"] == []
    gone = run_cli("--lang", "ru", "trust", "held", "--discard", "1", "--yes", env=c_env)
    assert gone.returncode == 1
    assert "Нет задержанного пакета с номером 1." in gone.stderr
    unconfirmed = run_cli("trust", "held", "--discard", "1", env=c_env)
    assert "--yes" in unconfirmed.stderr
    listing = _ok(run_cli("--lang", "uk", "trust", "list", env=c_env))
    assert "активний" in listing
    assert "active" not in listing

    # the coordinator profile is lost; a new one is rebuilt from the two key files
    shutil.rmtree(coord)
    _ok(run_cli("init", "--role", "coordinator", env=c_env))
    restored = _ok(
        run_cli(
            "org",
            "import",
            "--identity",
            str(keys / "org.key"),
            "--signing-key",
            str(keys / "sign.key"),
            env=c_env,
        )
    )
    assert "Test organisation" in restored
    _ok(run_cli("trust", "add", str(tmp_path / "dev.pub"), "--label", "W-017 laptop", env=c_env))
    receipts = tmp_path / "receipts"
    receipts.mkdir()
    _ok(run_cli("import", str(bundle), "--receipt-dir", str(receipts), env=c_env))
    (receipt,) = receipts.glob("receipt-*.json")
    applied = _ok(run_cli("receipt", "apply", str(receipt), env=m_env))
    assert "Receipt applied" in applied
    wrong = run_cli("receipt", "apply", str(keys / "org.pub"), env=m_env)
    assert wrong.returncode == 1
    assert "is not a receipt" in wrong.stderr
    assert "Cannot read" not in wrong.stderr


def test_every_bundle_option_has_help() -> None:
    import argparse

    from fieldkit.cli import bundles as cli_bundles
    from fieldkit.cli import trust as cli_trust

    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    cli_trust.register(sub, [])
    cli_bundles.register(sub, [])
    missing = []

    def walk(p: argparse.ArgumentParser, where: str) -> None:
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    walk(child, f"{where} {name}")
            elif not isinstance(action, argparse._HelpAction) and not action.help:
                missing.append(f"{where} {'/'.join(action.option_strings) or action.dest}")

    walk(parser, "fieldkit")
    assert missing == []


def test_a_damaged_bundle_is_explained_in_the_users_language(world: World) -> None:
    add_people(world.monitor, 3)
    exported = bundles.export_bundle(world.monitor, world.usb)
    data = bytearray(exported.path.read_bytes())
    data[len(data) // 2] ^= 1
    damaged = world.usb / "damaged.fkb"
    damaged.write_bytes(bytes(data))
    with pytest.raises(FieldkitError) as err:
        bundles.import_bundle(world.coordinator, damaged)
    assert err.value.code == ErrorCode.BUNDLE_TAMPERED
    assert "failed its authentication check" in err.value.message()
    uk = err.value.message(get_translator("uk"))
    assert "не пройшов перевірку автентичності" in uk
    assert "chunk" not in uk
    ru = err.value.message(get_translator("ru"))
    assert "не прошёл проверку подлинности" in ru
    # a file that is not a bundle at all
    other = world.usb / "notes.fkb"
    other.write_text("W-017 notes\n")
    with pytest.raises(FieldkitError) as err:
        bundles.import_bundle(world.coordinator, other)
    assert err.value.code == ErrorCode.NOT_A_BUNDLE
    assert "не починається із заголовка age v1" in err.value.message(get_translator("uk"))
    # a folder given instead of a file
    with pytest.raises(FieldkitError) as err:
        bundles.import_bundle(world.coordinator, world.usb)
    assert err.value.code == ErrorCode.FILE_NOT_READABLE
    assert "це не звичайний файл (тека, пристрій або канал)" in err.value.message(
        get_translator("uk")
    )
