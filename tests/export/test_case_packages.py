"""Case packages for lawyers, end to end on real profiles, real packages and real PDFs.

A coordinator enrols a lawyer's key, shares a case; the lawyer imports it into a read-only
profile, reviews every item's integrity and prints the case file. A later package supersedes the
earlier one and takes back what is no longer allowed. Tampered, misaddressed and foreign
packages are refused with a clear, translated message and change nothing (full table dumps).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from fieldkit.crypto.kdf import KdfParams
from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.domain.evidence import EvidenceLinks
from fieldkit.domain.profile import Role
from fieldkit.i18n import get_translator
from fieldkit.services import counsel, trust
from fieldkit.services.evidence import EvidenceService
from fieldkit.services.package_receive import import_package
from fieldkit.services.package_review import case_data, list_received, review
from fieldkit.services.package_share import share_case
from fieldkit.services.records import RecordService
from fieldkit.services.reports import ReportService
from fieldkit.storage.counsel_store import CounselStore
from fieldkit.storage.vault import Vault
from tests.export.bundle_kit import dump_tables
from tests.export.test_reports import Sample, build_sample, consent, pdf_text
from tests.helpers import STRONG_PASSPHRASE, require_tool


@dataclass
class Office:
    root: Path
    coordinator: Vault
    lawyer: Vault
    card: Path
    lawyer_pub: Path
    sample: Sample
    out: Path
    code_lawyer: str
    code_coordinator: str


def set_consent(
    vault: Vault, interview_id: str, *granted: str, declined: tuple[str, ...] = ()
) -> None:
    """The interviewee's consent as it stands now (what counsel may have depends on it)."""
    records = RecordService(vault)
    interview = records.get(interview_id)
    data = dict(interview.data)
    data["consent"] = consent(*granted, declined=declined)
    records.update(interview_id, data, interview.revision)


def _vault(root: Path, name: str, role: Role) -> Vault:
    return Vault.create(root / name, STRONG_PASSPHRASE, role, KdfParams.insecure_for_tests())


@pytest.fixture
def office(tmp_path: Path, fast_kdf: KdfParams) -> Iterator[Office]:
    coordinator = _vault(tmp_path, "coordinator", Role.COORDINATOR)
    lawyer = _vault(tmp_path, "lawyer", Role.LAWYER)
    trust.init_org(coordinator, "Test organisation")
    card = tmp_path / "org.pub"
    trust.write_card(coordinator, card)
    lawyer_pub = tmp_path / "lawyer.pub"
    enrolled = counsel.enrol_counsel(lawyer, card, lawyer_pub)
    added = counsel.add_counsel(coordinator, lawyer_pub, "L-01")
    sample = build_sample(coordinator, tmp_path)
    set_consent(coordinator, sample.interview_id, "share_prosecution", "photographs")
    out = tmp_path / "usb"
    out.mkdir()
    yield Office(
        tmp_path,
        coordinator,
        lawyer,
        card,
        lawyer_pub,
        sample,
        out,
        enrolled.code,
        added.code,
    )
    coordinator.lock()
    lawyer.lock()


def test_enrolment_codes_match_and_cover_the_encryption_key(office: Office) -> None:
    assert office.code_lawyer == office.code_coordinator
    assert len(office.code_lawyer.split()) == 6
    # A key file whose age key was swapped fails its self-signature.
    doc = json.loads(office.lawyer_pub.read_bytes())
    other = counsel.X25519Identity.generate().recipient
    doc["key"]["recipient"] = str(other)
    forged = office.root / "forged.pub"
    forged.write_text(json.dumps(doc))
    with pytest.raises(FieldkitError) as err:
        counsel.add_counsel(office.coordinator, forged, "L-02")
    assert err.value.code == ErrorCode.COUNSEL_KEY_INVALID


def test_share_import_review_and_print(office: Office) -> None:
    shared = share_case(office.coordinator, office.sample.case_id, "L-01", office.out)
    assert shared.path.suffix == ".fkp"
    assert shared.seq == 1
    result = import_package(office.lawyer, shared.path)
    assert result.status == "imported"
    assert result.case_id == office.sample.case_id
    assert {c.kind for c in result.added} == {"record", "evidence"}
    assert not result.removed
    cases = list_received(office.lawyer)
    assert [c.case_id for c in cases] == [office.sample.case_id]
    checked = review(office.lawyer, office.sample.case_id)
    assert checked
    assert all(r.status == "ok" for r in checked)
    assert {r.kind for r in checked} == {"record", "evidence"}
    # The lawyer's PDF case file, from the lawyer's own profile.
    pdf = office.root / "case.pdf"
    ReportService(office.lawyer).case_file(office.sample.case_id, pdf)
    text = pdf_text(pdf)
    assert "ст. 127 КК України" in text
    assert office.sample.evidence_sha256 in text.replace("\n", "")
    # The same package again changes nothing.
    before = dump_tables(office.lawyer)
    again = import_package(office.lawyer, shared.path)
    assert again.status == "already_imported"
    assert dump_tables(office.lawyer) == before


def test_lawyer_profile_is_read_only(office: Office) -> None:
    with pytest.raises(FieldkitError) as err:
        RecordService(office.lawyer).add("person", {"pseudonym": "X-1"})
    assert err.value.code == ErrorCode.PROFILE_READ_ONLY
    photo = office.root / "p.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0" + b"x" * 100)
    with pytest.raises(FieldkitError) as err:
        EvidenceService(office.lawyer).add(photo)
    assert err.value.code == ErrorCode.PROFILE_READ_ONLY
    with pytest.raises(FieldkitError) as err:
        share_case(office.lawyer, office.sample.case_id, "L-01", office.out)
    assert err.value.code == ErrorCode.WRONG_ROLE


def test_later_package_supersedes_and_removes_what_left(office: Office) -> None:
    first = share_case(office.coordinator, office.sample.case_id, "L-01", office.out)
    import_package(office.lawyer, first.path)
    evidence = EvidenceService(office.coordinator)
    item_id = evidence.list_items(case_id=office.sample.case_id)[0].id
    with office.lawyer.session() as s:
        from fieldkit.storage.tables.counsel import CounselItemRow

        row = s.get(CounselItemRow, item_id)
        assert row is not None
        assert row.storage_name is not None
        stored = CounselStore(office.lawyer).files.path_for(row.storage_name)
    assert stored.exists()
    evidence.purge(item_id, reason="test")  # the original no longer leaves
    second = share_case(office.coordinator, office.sample.case_id, "L-01", office.out)
    assert second.seq == 2
    result = import_package(office.lawyer, second.path)
    assert result.superseded == first.package_id
    assert [c.id for c in result.removed] == [item_id]
    with office.lawyer.session() as s:
        assert s.get(CounselItemRow, item_id) is None
    assert not stored.exists()
    data, _withheld = case_data(office.lawyer, office.sample.case_id)
    assert item_id not in {e.id for e in data.evidence}
    # The earlier package can no longer be imported over the later one.
    before = dump_tables(office.lawyer)
    with pytest.raises(FieldkitError) as err:
        import_package(office.lawyer, first.path)
    assert err.value.code == ErrorCode.PACKAGE_OUTDATED
    assert dump_tables(office.lawyer) == before


def _files(vault: Vault) -> list[str]:
    """Every file of the profile but the stores' empty lock files."""
    return sorted(p.name for p in vault.path.rglob("*") if p.is_file() and p.name != ".lock")


def _refused(vault: Vault, path: Path, code: ErrorCode) -> FieldkitError:
    before = dump_tables(vault)
    files = _files(vault)
    with pytest.raises(FieldkitError) as err:
        import_package(vault, path)
    assert err.value.code == code
    assert dump_tables(vault) == before
    assert _files(vault) == files
    uk = err.value.message(get_translator("uk"))
    assert uk != err.value.message(get_translator("en"))
    return err.value


def test_tampered_package_is_refused_and_changes_nothing(office: Office) -> None:
    shared = share_case(office.coordinator, office.sample.case_id, "L-01", office.out)
    data = bytearray(shared.path.read_bytes())
    data[len(data) // 2] ^= 0x01
    tampered = office.root / "tampered.fkp"
    tampered.write_bytes(bytes(data))
    error = _refused(office.lawyer, tampered, ErrorCode.PACKAGE_TAMPERED)
    assert "Nothing was imported" in error.message(get_translator("en"))
    cut = office.root / "cut.fkp"
    cut.write_bytes(shared.path.read_bytes()[:-100])
    _refused(office.lawyer, cut, ErrorCode.PACKAGE_TAMPERED)


def test_package_for_another_lawyer_is_refused(office: Office) -> None:
    other = _vault(office.root, "lawyer2", Role.LAWYER)
    try:
        other_pub = office.root / "lawyer2.pub"
        counsel.enrol_counsel(other, office.card, other_pub)
        counsel.add_counsel(office.coordinator, other_pub, "L-02")
        shared = share_case(office.coordinator, office.sample.case_id, "L-01", office.out)
        _refused(other, shared.path, ErrorCode.PACKAGE_NOT_ADDRESSED_HERE)
    finally:
        other.lock()


def test_package_signed_by_an_unknown_organisation_is_refused(office: Office) -> None:
    stranger = _vault(office.root, "stranger", Role.COORDINATOR)
    try:
        trust.init_org(stranger, "Another organisation")
        counsel.add_counsel(stranger, office.lawyer_pub, "L-01")
        (office.root / "stranger-data").mkdir()
        sample = build_sample(stranger, office.root / "stranger-data")
        set_consent(stranger, sample.interview_id, "share_prosecution")
        shared = share_case(stranger, sample.case_id, "L-01", office.out)
        _refused(office.lawyer, shared.path, ErrorCode.PACKAGE_UNKNOWN_SIGNER)
    finally:
        stranger.lock()


def test_revoked_lawyer_gets_no_package(office: Office) -> None:
    counsel.revoke_counsel(office.coordinator, "L-01")
    with pytest.raises(FieldkitError) as err:
        share_case(office.coordinator, office.sample.case_id, "L-01", office.out)
    assert err.value.code == ErrorCode.COUNSEL_REVOKED
    assert list(office.out.iterdir()) == []


def test_package_checks_with_standard_tools_alone(office: Office) -> None:
    age = require_tool("age")
    minisign = require_tool("minisign")
    tar = require_tool("tar")
    sha256sum = require_tool("sha256sum")
    shared = share_case(office.coordinator, office.sample.case_id, "L-01", office.out)
    identity = office.root / "lawyer.key"
    counsel.export_identity(office.lawyer, identity)
    org_key = office.root / "org-sign.pub"
    counsel.write_org_signing_key(office.lawyer, org_key)
    plain = office.root / "plain.tar"
    subprocess.run([age, "-d", "-i", str(identity), "-o", str(plain), str(shared.path)], check=True)
    unpacked = office.root / "unpacked"
    unpacked.mkdir()
    subprocess.run([tar, "-x", "-f", str(plain), "-C", str(unpacked)], check=True)
    subprocess.run(
        [minisign, "-V", "-q", "-p", str(org_key), "-m", str(unpacked / "SHA256SUMS")],
        check=True,
    )
    subprocess.run([sha256sum, "--quiet", "-c", "SHA256SUMS"], cwd=unpacked, check=True)
    manifest = json.loads((unpacked / "manifest.json").read_bytes())
    assert manifest["format"] == "fieldkit-case-package/1"
    assert manifest["case_id"] == office.sample.case_id
    assert manifest["audience"] == "counsel"
    assert (unpacked / "objects" / office.sample.evidence_sha256).exists()


def test_withdrawn_photo_consent_takes_the_photo_back(office: Office) -> None:
    """The issue's case: a photo linked to its interview goes to counsel while the interviewee
    allows photographs; after a withdrawal the next package withholds it, and the lawyer's
    profile deletes it at import and says why."""
    evidence = EvidenceService(office.coordinator)
    item = evidence.list_items(case_id=office.sample.case_id)[0]
    evidence.set_links(
        item.id,
        EvidenceLinks(case_id=office.sample.case_id, interview_id=office.sample.interview_id),
    )
    first = share_case(office.coordinator, office.sample.case_id, "L-01", office.out)
    assert item.id not in {w.id for w in first.withheld}
    import_package(office.lawyer, first.path)
    data, _withheld = case_data(office.lawyer, office.sample.case_id)
    assert item.id in {e.id for e in data.evidence}

    records = RecordService(office.coordinator)
    interview = records.get(office.sample.interview_id)
    changed = dict(interview.data)
    changed["consent"] = {
        **consent("share_prosecution", "photographs"),
        "withdrawals": [
            {"date": {"value": "2024-04-02", "precision": "exact"}, "scope": "photographs"}
        ],
    }
    records.update(interview.id, changed, interview.revision)
    assert "photographs" in evidence.media_consent(item.id)
    assert evidence.media_consent(item.id)["photographs"] == "declined"

    second = share_case(office.coordinator, office.sample.case_id, "L-01", office.out)
    withheld = {w.id: w for w in second.withheld}
    assert withheld[item.id].kind == "evidence"
    assert withheld[item.id].reason == "withdrawn"
    result = import_package(office.lawyer, second.path)
    removed = {c.id: c for c in result.removed}
    assert removed[item.id].reason == "withdrawn"
    assert "withdrawn" in (removed[item.id].explanation or "")
    data, withheld_after = case_data(office.lawyer, office.sample.case_id)
    assert item.id not in {e.id for e in data.evidence}
    assert item.id in {w.id for w in withheld_after}
    pdf = office.root / "after.pdf"
    ReportService(office.lawyer).case_file(office.sample.case_id, pdf)
    assert office.sample.evidence_sha256 not in pdf_text(pdf).replace("\n", "")


def test_two_items_with_the_same_original_each_get_their_file(office: Office) -> None:
    EvidenceService(office.coordinator).add(
        office.sample.evidence_path, case_id=office.sample.case_id, allow_duplicate=True
    )
    shared = share_case(office.coordinator, office.sample.case_id, "L-01", office.out)
    assert shared.evidence == 2
    import_package(office.lawyer, shared.path)
    checked = [r for r in review(office.lawyer, office.sample.case_id) if r.kind == "evidence"]
    assert [r.status for r in checked] == ["ok", "ok"]
