"""The bad-input catalogue (security brief section 4) on real bundles.

Each altered bundle is refused with its own error code and a clear message, and the coordinator's
database, evidence store and quarantine are exactly as they were."""

from __future__ import annotations

import copy
import hashlib
import io
import os
import tarfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fieldkit.crypto.age import X25519Identity, encrypt_bytes
from fieldkit.crypto.canonical_json import canonical_dumps
from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.export.bundle_format import BLOCK
from fieldkit.export.manifest import Manifest
from fieldkit.services import bundles, trust
from tests.export.bundle_kit import (
    Member,
    World,
    add_evidence,
    add_monitor,
    add_people,
    dump_tables,
    make_world,
    manifest_doc,
    pack,
    resign,
    seal,
    set_manifest,
    store_files,
    unpack,
)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    os.environ["FIELDKIT_INSECURE_TEST_KDF"] = "1"
    w = make_world(tmp_path_factory.mktemp("bad"))
    add_people(w.monitor, 3)
    add_evidence(w.monitor, w.root / "src", os.urandom(100_000), "a.bin")
    add_evidence(w.monitor, w.root / "src", os.urandom(100_000), "b.bin")
    exported = bundles.export_bundle(w.monitor, w.usb)
    w.extra["bundle"] = exported.path.read_bytes()
    w.extra["members"] = unpack(w.extra["bundle"], w.identities())
    w.extra["stranger"] = Ed25519PrivateKey.generate()
    add_monitor(w, "second", "W-018 laptop")
    yield w
    w.close()


def members_of(world: World) -> list[Member]:
    return copy.deepcopy(world.extra["members"])


def refuse(world: World, data: bytes, code: ErrorCode, reason: str | None = None) -> FieldkitError:
    path = world.root / "incoming" / (hashlib.sha256(data).hexdigest()[:16] + ".fkb")
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    before = dump_tables(world.coordinator)
    files = store_files(world.coordinator)
    with pytest.raises(FieldkitError) as err:
        bundles.import_bundle(world.coordinator, path)
    after = dump_tables(world.coordinator)
    if code in (ErrorCode.BUNDLE_UNKNOWN_SIGNER, ErrorCode.BUNDLE_REVOKED_SIGNER):
        assert len(after.pop("quarantined_bundles")) == len(before.pop("quarantined_bundles")) + 1
        files = {f for f in files if "/held/" not in f}
        now = {f for f in store_files(world.coordinator) if "/held/" not in f}
    else:
        now = store_files(world.coordinator)
    assert err.value.code == code, err.value.message()
    assert after == before, "the coordinator's database changed"
    assert now == files, "files were left in the store or the quarantine"
    message = err.value.message()
    assert "{" not in message
    if reason is not None:
        assert reason in message, message
    # verify reports the same refusal without changing anything either
    report = bundles.verify_bundle(world.coordinator, path)
    assert not report.ok
    assert report.refusal is not None
    assert report.refusal["code"] == code.value
    return err.value


def test_the_unaltered_bundle_verifies(world: World) -> None:
    path = world.root / "good.fkb"
    path.write_bytes(world.extra["bundle"])
    report = bundles.verify_bundle(world.coordinator, path)
    assert report.ok, report.refusal
    assert report.records == 3
    assert report.objects == 2


# --- names, links and devices --------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        b"../../evil.txt",
        b"/etc/passwd",
        b"C:\\evil.txt",
        b"..\\..\\bs.txt",
        b"records/../../evil.json",
        b"objects/" + b"A" * 64,
        b"manifest.json/",
        "．．／evil".encode(),
        "records/\u202egpj.json".encode(),
        b"CON",
        b"evil.",
        b"records/x\x01.json",
    ],
)
def test_hostile_member_names_are_refused(world: World, name: bytes) -> None:
    members = members_of(world)
    members.insert(3, Member(name, b"{}"))
    resign(members, world.device_key())
    error = refuse(world, seal(members, world.recipient()), ErrorCode.BUNDLE_UNSAFE_MEMBER)
    assert "\u202e" not in error.message()  # bidi controls are shown escaped


@pytest.mark.parametrize(
    ("typeflag", "kind"),
    [
        (b"1", "hard link"),
        (b"2", "symbolic link"),
        (b"3", "character device"),
        (b"4", "block device"),
        (b"5", "directory"),
        (b"6", "FIFO"),
        (b"x", "pax extended header"),
        (b"L", "GNU long name"),
    ],
)
def test_links_devices_and_special_entries_are_refused(
    world: World, typeflag: bytes, kind: str
) -> None:
    members = members_of(world)
    members.insert(3, Member(b"audit.json", b"", typeflag=typeflag, linkname=b"/etc/shadow"))
    refuse(world, seal(members, world.recipient()), ErrorCode.BUNDLE_UNSAFE_MEMBER, kind)


def test_a_symlink_made_by_tarfile_is_refused(world: World) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        info = tarfile.TarInfo("SHA256SUMS")
        info.type = tarfile.SYMTYPE
        info.linkname = "../../../home"
        tar.addfile(info)
    data = encrypt_bytes(buf.getvalue(), [world.recipient()])
    refuse(world, data, ErrorCode.BUNDLE_UNSAFE_MEMBER, "symbolic link")


def test_the_name_prefix_field_is_refused(world: World) -> None:
    members = members_of(world)
    raw = bytearray(pack(members))
    raw[345:350] = b"../.."
    raw[148:156] = b" " * 8
    raw[148:156] = format(sum(raw[:BLOCK]), "06o").encode() + b"\0 "
    data = encrypt_bytes(bytes(raw), [world.recipient()])
    refuse(world, data, ErrorCode.BUNDLE_UNSAFE_MEMBER, "prefix")


# --- layout --------------------------------------------------------------------------------------


def test_duplicate_member_names_are_refused(world: World) -> None:
    members = members_of(world)
    members.insert(4, copy.deepcopy(members[3]))
    refuse(world, seal(members, world.recipient()), ErrorCode.BUNDLE_LAYOUT, "duplicate")


def test_a_missing_member_is_refused(world: World) -> None:
    members = members_of(world)
    members.pop()  # the last object
    refuse(world, seal(members, world.recipient()), ErrorCode.BUNDLE_LAYOUT, "missing")


def test_a_member_missing_in_the_middle_is_refused(world: World) -> None:
    members = members_of(world)
    del members[4]
    refuse(world, seal(members, world.recipient()), ErrorCode.BUNDLE_LAYOUT)


def test_an_extra_member_is_refused(world: World) -> None:
    members = members_of(world)
    members.append(Member(b"objects/" + b"0" * 64, b"surprise"))
    refuse(world, seal(members, world.recipient()), ErrorCode.BUNDLE_LAYOUT, "unexpected")


def test_members_out_of_order_are_refused(world: World) -> None:
    members = members_of(world)
    members[3], members[4] = members[4], members[3]
    refuse(world, seal(members, world.recipient()), ErrorCode.BUNDLE_LAYOUT, "out of order")


def test_signature_first_is_refused(world: World) -> None:
    members = members_of(world)
    members[0], members[1] = members[1], members[0]
    refuse(world, seal(members, world.recipient()), ErrorCode.BUNDLE_LAYOUT, "SHA256SUMS")


def test_data_after_the_archive_is_refused(world: World) -> None:
    members = members_of(world)
    data = seal(members, world.recipient(), trailer=b"\0" * 1024 + b"extra" + b"\0" * 507)
    refuse(world, data, ErrorCode.BUNDLE_LAYOUT, "after the end")


def test_a_bad_tar_checksum_is_refused(world: World) -> None:
    raw = bytearray(pack(members_of(world)))
    raw[100] ^= 1  # the mode field of the first header
    refuse(world, encrypt_bytes(bytes(raw), [world.recipient()]), ErrorCode.BUNDLE_LAYOUT)


# --- truncation and flipped bytes ----------------------------------------------------------------


@pytest.mark.parametrize("keep", [10, 40, 100])
def test_truncated_inside_the_age_header(world: World, keep: int) -> None:
    refuse(world, world.extra["bundle"][:keep], ErrorCode.BUNDLE_TRUNCATED)


def test_truncated_right_after_the_age_header(world: World) -> None:
    data = world.extra["bundle"]
    header_end = data.index(b"\n", data.index(b"\n--- ") + 1) + 1
    refuse(world, data[:header_end], ErrorCode.BUNDLE_TRUNCATED)
    refuse(world, data[: header_end + 16], ErrorCode.BUNDLE_TRUNCATED)


def test_truncated_at_a_chunk_boundary(world: World) -> None:
    data = world.extra["bundle"]
    header_end = data.index(b"\n", data.index(b"\n--- ") + 1) + 1
    cut = header_end + 16 + 2 * (64 * 1024 + 16)
    assert cut < len(data)
    refuse(world, data[:cut], ErrorCode.BUNDLE_TRUNCATED, "incomplete")


@pytest.mark.parametrize("fraction", [0.3, 0.9, 0.999])
def test_truncated_anywhere_is_refused(world: World, fraction: float) -> None:
    data = world.extra["bundle"]
    error = refuse_any(world, data[: int(len(data) * fraction)])
    assert error.code in (ErrorCode.BUNDLE_TRUNCATED, ErrorCode.BUNDLE_TAMPERED)


def refuse_any(world: World, data: bytes) -> FieldkitError:
    path = world.root / "any.fkb"
    path.write_bytes(data)
    before = dump_tables(world.coordinator)
    with pytest.raises(FieldkitError) as err:
        bundles.import_bundle(world.coordinator, path)
    assert dump_tables(world.coordinator) == before
    return err.value


def test_flipped_byte_in_the_age_intro(world: World) -> None:
    data = bytearray(world.extra["bundle"])
    data[3] ^= 0x20
    refuse(world, bytes(data), ErrorCode.NOT_A_BUNDLE)


def test_flipped_byte_in_the_age_header_mac(world: World) -> None:
    data = bytearray(world.extra["bundle"])
    pos = data.index(b"\n--- ") + 10
    data[pos] = ord("A") if data[pos] != ord("A") else ord("B")
    refuse(world, bytes(data), ErrorCode.BUNDLE_TAMPERED, "header")


def test_flipped_byte_in_the_recipient_stanza(world: World) -> None:
    data = bytearray(world.extra["bundle"])
    pos = data.index(b"-> X25519 ") + 15
    data[pos] = ord("A") if data[pos] != ord("A") else ord("B")
    refuse(world, bytes(data), ErrorCode.BUNDLE_WRONG_RECIPIENT)


@pytest.mark.parametrize("where", [0.1, 0.5, 0.95])
def test_flipped_byte_in_the_encrypted_payload(world: World, where: float) -> None:
    data = bytearray(world.extra["bundle"])
    start = data.index(b"\n", data.index(b"\n--- ") + 1) + 1 + 16
    pos = start + int((len(data) - start) * where)
    data[pos] ^= 0x01
    refuse(world, bytes(data), ErrorCode.BUNDLE_TAMPERED, "authentication")


def test_flipped_byte_in_the_checksum_list(world: World) -> None:
    members = members_of(world)
    sums = bytearray(members[0].data)
    sums[10] = ord("0") if sums[10] != ord("0") else ord("1")
    members[0].data = bytes(sums)
    refuse(world, seal(members, world.recipient()), ErrorCode.BUNDLE_SIGNATURE_INVALID)


def test_flipped_byte_in_the_signature(world: World) -> None:
    members = members_of(world)
    lines = members[1].data.split(b"\n")
    sig = bytearray(lines[1])
    sig[40] = ord("A") if sig[40] != ord("A") else ord("B")
    lines[1] = bytes(sig)
    members[1].data = b"\n".join(lines)
    refuse(world, seal(members, world.recipient()), ErrorCode.BUNDLE_SIGNATURE_INVALID)


def test_edited_trusted_comment(world: World) -> None:
    members = members_of(world)
    members[1].data = members[1].data.replace(b"seq=1", b"seq=9")
    refuse(world, seal(members, world.recipient()), ErrorCode.BUNDLE_SIGNATURE_INVALID)


def test_flipped_byte_in_the_manifest(world: World) -> None:
    members = members_of(world)
    manifest = bytearray(members[2].data)
    manifest[30] ^= 0x01
    members[2].data = bytes(manifest)
    refuse(world, seal(members, world.recipient()), ErrorCode.BUNDLE_CHECKSUM_MISMATCH, "manifest")


def test_flipped_byte_in_a_record(world: World) -> None:
    members = members_of(world)
    record = bytearray(members[3].data)
    record[20] ^= 0x01
    members[3].data = bytes(record)
    refuse(world, seal(members, world.recipient()), ErrorCode.BUNDLE_CHECKSUM_MISMATCH, "records/")


def test_flipped_byte_in_an_object(world: World) -> None:
    members = members_of(world)
    obj = bytearray(members[-1].data)
    obj[50_000] ^= 0x01
    members[-1].data = bytes(obj)
    refuse(world, seal(members, world.recipient()), ErrorCode.BUNDLE_CHECKSUM_MISMATCH, "objects/")


def test_a_member_with_another_size_is_refused(world: World) -> None:
    members = members_of(world)
    members[-1].data = members[-1].data + b"x"
    refuse(world, seal(members, world.recipient()), ErrorCode.BUNDLE_TAMPERED, "bytes")


def test_swapped_objects_are_refused(world: World) -> None:
    members = members_of(world)
    members[-1].data, members[-2].data = members[-2].data, members[-1].data
    refuse(world, seal(members, world.recipient()), ErrorCode.BUNDLE_CHECKSUM_MISMATCH, "objects/")


# --- signers and recipients ----------------------------------------------------------------------


def test_unknown_signer_is_quarantined(world: World) -> None:
    members = members_of(world)
    resign(members, world.extra["stranger"])
    error = refuse(world, seal(members, world.recipient()), ErrorCode.BUNDLE_UNKNOWN_SIGNER)
    assert "in person" in error.message()


def test_another_enrolled_device_cannot_sign_for_this_one(world: World) -> None:
    members = members_of(world)
    resign(members, world.extra["second"].device_signing_key())
    refuse(world, seal(members, world.recipient()), ErrorCode.BUNDLE_DEVICE_MISMATCH)


def test_wrong_recipient(world: World) -> None:
    other = X25519Identity.generate().recipient
    refuse(world, seal(members_of(world), other), ErrorCode.BUNDLE_WRONG_RECIPIENT)


def test_manifest_addressed_to_another_organisation(world: World) -> None:
    members = members_of(world)
    doc = manifest_doc(members)
    doc["org_recipients"] = ["sha256:" + "0" * 64]
    set_manifest(members, doc)
    resign(members, world.device_key())
    refuse(world, seal(members, world.recipient()), ErrorCode.BUNDLE_MANIFEST_INVALID, "another")


def test_revoked_signer_after_last_good_is_held(
    world: World, tmp_path_factory: pytest.TempPathFactory
) -> None:
    fresh = make_world(tmp_path_factory.mktemp("revoked"))
    try:
        add_people(fresh.monitor, 1)
        path = bundles.export_bundle(fresh.monitor, fresh.usb).path
        trust.revoke_device(fresh.coordinator, fresh.monitor.device_id)
        before = dump_tables(fresh.coordinator)
        with pytest.raises(FieldkitError) as err:
            bundles.import_bundle(fresh.coordinator, path)
        assert err.value.code == ErrorCode.BUNDLE_REVOKED_SIGNER
        after = dump_tables(fresh.coordinator)
        assert len(after.pop("quarantined_bundles")) == 1
        before.pop("quarantined_bundles")
        assert after == before
    finally:
        fresh.close()


# --- the manifest and hostile JSON ---------------------------------------------------------------


def with_manifest_bytes(world: World, raw: bytes) -> bytes:
    members = members_of(world)
    members[2].data = raw
    resign(members, world.device_key(), comment="fieldkit-bundle/1 forged")
    return seal(members, world.recipient())


def test_oversized_manifest(world: World) -> None:
    raw = b'{"format":"fieldkit-bundle/1","pad":"' + b"x" * (17 * 1024 * 1024) + b'"}'
    refuse(world, with_manifest_bytes(world, raw), ErrorCode.BUNDLE_TOO_LARGE, "manifest")


def test_manifest_with_too_many_entries(world: World) -> None:
    members = members_of(world)
    doc = manifest_doc(members)
    doc["objects"] = [0] * 100_001
    set_manifest(members, doc)
    resign(members, world.device_key())
    refuse(world, seal(members, world.recipient()), ErrorCode.BUNDLE_MANIFEST_INVALID, "100000")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b'{"format":"fieldkit-bundle/1","seq":1,"seq":2}', "duplicate key"),
        (b'{"format":"fieldkit-bundle/1","seq":NaN}', "NaN"),
        (b'{"format":"fieldkit-bundle/1","seq":Infinity}', "Infinity"),
        (b'{"format":"fieldkit-bundle/1","seq":1e999}', "fractional"),
        (b'{"format":"fieldkit-bundle/1","seq":' + b"9" * 5000 + b"}", "number too long"),
        (b'{"format":"fieldkit-bundle/1","x":' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nesting"),
        (b'{"format":"fieldkit-bundle/1","x":"\\ud800"}', "surrogate"),
        (b'\xef\xbb\xbf{"format":"fieldkit-bundle/1"}', "byte-order mark"),
        (b'{"format":"fieldkit-bundle/1",}', "not valid JSON"),
        (b'{"format":"fieldkit-bundle/1","x":"\xff"}', "UTF-8"),
    ],
)
def test_hostile_manifest_json(world: World, raw: bytes, reason: str) -> None:
    refuse(world, with_manifest_bytes(world, raw), ErrorCode.BUNDLE_MANIFEST_INVALID, reason)


def test_unknown_format_version(world: World) -> None:
    members = members_of(world)
    doc = manifest_doc(members)
    doc["format"] = "fieldkit-bundle/2"
    set_manifest(members, doc)
    resign(members, world.device_key())
    refuse(world, seal(members, world.recipient()), ErrorCode.BUNDLE_UNSUPPORTED_VERSION)


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (lambda d: d.update(seq=0), "seq"),
        (lambda d: d.update(seq=True), "seq"),
        (lambda d: d.update(prev="0" * 64), "prev"),
        (lambda d: d.update(extra=1), "unknown fields"),
        (lambda d: d.pop("records"), "lacks records"),
        (lambda d: d["records"].append(d["records"][0]), "listed twice"),
        (lambda d: d["records"][0].update(id="../../x"), "records[].id"),
        (lambda d: d["objects"][0].update(media_type="text/html; x"), "media_type"),
        (lambda d: d["changes"].update(through=-1), "changes"),
    ],
)
def test_manifest_schema_violations(
    world: World, edit: Callable[[dict[str, Any]], Any], reason: str
) -> None:
    members = members_of(world)
    doc = manifest_doc(members)
    edit(doc)
    set_manifest(members, doc)
    resign(members, world.device_key())
    refuse(world, seal(members, world.recipient()), ErrorCode.BUNDLE_MANIFEST_INVALID, reason)


def test_manifest_and_checksum_list_disagree(world: World) -> None:
    members = members_of(world)
    doc = manifest_doc(members)
    doc["records"][0]["sha256"] = "0" * 64
    set_manifest(members, doc)
    resign(members, world.device_key())
    refuse(world, seal(members, world.recipient()), ErrorCode.BUNDLE_MANIFEST_INVALID, "disagree")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b'{"id":"x","id":"y"}', "duplicate key"),
        (b"[" * 1000 + b"]" * 1000, "nesting"),
        (b'{"v":NaN}', "NaN"),
        (b"[]", "JSON object"),
    ],
)
def test_hostile_record_json(world: World, raw: bytes, reason: str) -> None:
    members = members_of(world)
    name = members[3].name.decode()
    members[3].data = raw
    doc = manifest_doc(members)
    for rec in doc["records"]:
        if f"records/{rec['id']}-{rec['revision']}.json" == name:
            rec["sha256"] = hashlib.sha256(raw).hexdigest()
            rec["size"] = len(raw)
    set_manifest(members, doc)
    resign(members, world.device_key())
    refuse(world, seal(members, world.recipient()), ErrorCode.BUNDLE_MEMBER_INVALID, reason)


def test_not_a_bundle_at_all(world: World) -> None:
    refuse(world, b"PK\x03\x04" + os.urandom(2000), ErrorCode.NOT_A_BUNDLE)


def test_a_symlink_to_a_bundle_is_not_followed(world: World) -> None:
    target = world.root / "real.fkb"
    target.write_bytes(world.extra["bundle"])
    link = world.root / "link.fkb"
    link.symlink_to(target)
    with pytest.raises(FieldkitError) as err:
        bundles.import_bundle(world.coordinator, link)
    assert err.value.code == ErrorCode.FILE_NOT_READABLE


# --- property: mutations of a valid bundle only ever give the typed refusal ----------------------


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_random_mutations_give_only_typed_refusals(world: World, data: st.DataObject) -> None:
    original = world.extra["bundle"]
    mutated = bytearray(original)
    kind = data.draw(st.sampled_from(["flip", "cut", "insert", "plain-flip"]))
    if kind == "flip":
        for _ in range(data.draw(st.integers(1, 4))):
            pos = data.draw(st.integers(0, len(mutated) - 1))
            mutated[pos] ^= data.draw(st.integers(1, 255))
    elif kind == "cut":
        mutated = mutated[: data.draw(st.integers(0, len(mutated) - 1))]
    elif kind == "insert":
        pos = data.draw(st.integers(0, len(mutated)))
        mutated[pos:pos] = data.draw(st.binary(min_size=1, max_size=64))
    else:
        # alter the plaintext and re-encrypt: what someone holding the org's public key can do
        plain = bytearray(pack(members_of(world)))
        pos = data.draw(st.integers(0, len(plain) - 1))
        plain[pos] ^= data.draw(st.integers(1, 255))
        mutated = bytearray(encrypt_bytes(bytes(plain), [world.recipient()]))
    path = world.root / "mutated.fkb"
    path.write_bytes(bytes(mutated))
    report = bundles.verify_bundle(world.coordinator, path)
    if bytes(mutated) == original:
        assert report.ok
        return
    assert not report.ok, kind
    assert report.refusal is not None
    assert report.refusal["code"].startswith(("bundle_", "not_a_bundle"))
    assert "{" not in report.refusal["message"]


json_leaf = st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.text(max_size=8)
json_value = st.recursive(
    json_leaf,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for key, sub in value.items():
            out.extend(_paths(sub, (*prefix, key)))
    elif isinstance(value, list):
        for index, sub in enumerate(value):
            out.extend(_paths(sub, (*prefix, index)))
    return out


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_signed_but_malformed_manifests_give_only_typed_refusals(
    world: World, data: st.DataObject
) -> None:
    """A device key holder (or a bug) signs a manifest with any structure: still only a refusal."""
    members = members_of(world)
    doc = manifest_doc(members)
    original = copy.deepcopy(doc)
    path = data.draw(st.sampled_from(_paths(doc)[1:]))
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    action = data.draw(st.sampled_from(["replace", "delete"]))
    if action == "delete":
        del parent[path[-1]]
    else:
        parent[path[-1]] = data.draw(json_value)
    set_manifest(members, doc)
    resign(members, world.device_key())
    target = world.root / "schema.fkb"
    target.write_bytes(seal(members, world.recipient()))
    report = bundles.verify_bundle(world.coordinator, target)
    # Compare bytes, not values: in Python False == 0, but a boolean is not a sequence number.
    if canonical_dumps(doc) == canonical_dumps(original):
        assert report.ok
        return
    if report.ok:
        # only a change the format allows (say, another valid media type) may pass
        Manifest.from_json(doc)
        return
    assert report.refusal is not None
    assert report.refusal["code"].startswith("bundle_")
    assert "{" not in report.refusal["message"]


def test_an_edited_untrusted_comment_is_refused(world: World) -> None:
    members = members_of(world)
    members[1].data = members[1].data.replace(
        b"untrusted comment: fieldkit", b"untrusted comment: Fieldkit"
    )
    refuse(world, seal(members, world.recipient()), ErrorCode.BUNDLE_SIGNATURE_INVALID)
