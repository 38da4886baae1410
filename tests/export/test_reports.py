"""PDF case files and visit reports, built from a real SQLCipher profile and checked with poppler.

Text is read back with ``pdftotext`` (so what is asserted is what a lawyer would see), page counts
with ``pdfinfo``, signatures with the real ``minisign``, evidence hashes with ``sha256sum``.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from fieldkit.crypto.kdf import KdfParams
from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.domain.profile import Role
from fieldkit.domain.progress import CancelToken
from fieldkit.i18n import get_translator
from fieldkit.services.evidence import EvidenceService
from fieldkit.services.records import RecordService
from fieldkit.services.reports import ReportService
from fieldkit.storage.vault import Vault
from tests.helpers import STRONG_PASSPHRASE, require_tool

MARKER_NAME = "Олександр Тестовий-Маркер"
UK_NARRATIVE = (
    "Мене затримали 14 березня біля вокзалу. У кабінеті слідчого двоє в масках били мене "
    "по спині кийком і вимагали підписати зізнання; я відмовився."
)
RU_NARRATIVE = (
    "Меня задержали без протокола, «для проверки документов». Ночью выводили в коридор и "
    "заставляли стоять у стены до утра."
)
HOSTILE_TEXT = 'Примітка: <b>не жирний</b> & <font size="40">x</font> ]]> &amp; «лапки»'


@dataclass
class Sample:
    vault: Vault
    case_id: str
    visit_id: str
    earlier_visit_id: str
    facility_id: str
    person_id: str
    witness_id: str
    interview_id: str
    recommendation_ids: list[str]
    evidence_path: Path
    evidence_sha256: str


def _date(value: str) -> dict[str, str]:
    precision = {10: "exact", 7: "day_unknown", 4: "month_unknown"}[len(value)]
    return {"value": value, "precision": precision}


def consent(*granted: str, declined: tuple[str, ...] = ()) -> dict[str, Any]:
    scopes = [{"scope": s, "status": "granted"} for s in ("interview", *granted)]
    scopes += [{"scope": s, "status": "declined"} for s in declined]
    return {"scopes": scopes, "withdrawals": []}


def interview_data(
    code: str,
    person_id: str,
    case_id: str,
    *,
    visit_id: str | None = None,
    narrative: str = UK_NARRATIVE,
    consent_value: dict[str, Any] | None = None,
    injuries: list[dict[str, Any]] | None = None,
    when: str = "2024-03-20",
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "interviewee_code": code,
        "interviewee": person_id,
        "connection": "victim",
        "cases": [case_id],
        "interview_date": _date(when),
        "location_type": "ngo_office",
        "mode": "in_person",
        "explained_purpose": True,
        "explained_use": True,
        "explained_right_to_stop": True,
        "consent": consent_value or consent("anonymised_reports"),
        "consent_form": "oral_recorded",
        "narrative": narrative,
        "background": RU_NARRATIVE,
        "complaints": HOSTILE_TEXT,
    }
    if visit_id:
        data["visit"] = visit_id
    if injuries:
        data["injuries"] = injuries
    return data


INJURIES = [
    {
        "view": "back",
        "x": 0.45,
        "y": 0.32,
        "injury_type": "bruise",
        "region": "back_upper",
        "side": "left",
        "size_cm": 12.5,
        "shape": "смуги, паралельні",
        "colour": "синьо-фіолетовий",
        "reported_cause": "удари кийком",
        "examined_by": "lay_monitor",
    },
    {
        "view": "front",
        "x": 0.36,
        "y": 0.47,
        "injury_type": "abrasion",
        "region": "chest",
        "side": "right",
        "colour": "червоний",
    },
    {"view": "head", "x": 0.5, "y": 0.5, "injury_type": "swelling"},
]


def visit_data(
    facility_id: str, reference: str, when: str, *, kind: str = "regular"
) -> dict[str, Any]:
    return {
        "reference": reference,
        "facility": facility_id,
        "facility_type": "sizo",
        "visit_kind": kind,
        "visit_mode": "on_site",
        "announced": "unannounced",
        "visit_date": _date(when),
        "arrived_at_gate": f"{when}T09:00:00+03:00",
        "admitted_at": f"{when}T09:47:00+03:00",
        "left_at": f"{when}T16:05:00+03:00",
        "team": [{"member": "NPM-4", "role": "head"}, {"member": "CM-12", "role": "civic_monitor"}],
        "cooperation": "partial",
        "report_confidentiality": "to_facility",
        "prepared_by": "NPM-4",
        "obstructions": [
            {
                "type": "entrance_delay",
                "description": "Чекали біля воріт 47 хвилин: «чекайте начальника».",
                "resolved": True,
            },
            {"type": "private_interviews_denied", "description": "Конвой стояв поруч."},
        ],
        "official_capacity": 120,
        "total_present": 168,
        "men": 150,
        "women": 18,
        "areas": [
            {
                "label": "Камера 14",
                "area_type": "cell",
                "length_m": 4.0,
                "width_m": 3.0,
                "height_m": 2.7,
                "floor_area_m2": 12.0,
                "occupants": 6,
                "natural_light": "insufficient",
                "ventilation": "poor",
                "notes": "Вікно закрите металевим листом.",
            },
            {
                "label": "Камера 3",
                "area_type": "cell",
                "floor_area_m2": 14.0,
                "occupants": 2,
                "natural_light": "adequate",
            },
            {  # no floor area entered: length × width is used, and the report says so
                "label": "Камера 9",
                "area_type": "cell",
                "length_m": 4.2,
                "width_m": 3.1,
                "occupants": 2,
            },
            {
                "label": "Карцер",
                "area_type": "isolation_cell",
                "length_m": 1.8,
                "width_m": 2.5,
                "height_m": 2.4,
                "floor_area_m2": 4.5,
                "occupants": 1,
            },
        ],
    }


def recommendation_data(
    title: str, text: str, visit_id: str, facility_id: str, status: str, **extra: Any
) -> dict[str, Any]:
    data = {
        "title": title,
        "origin": "visit",
        "origin_visit": visit_id,
        "facility": facility_id,
        "addressee": "facility_head",
        "text": text,
        "theme": "material_conditions",
        "priority": "high",
        "issued_on": _date("2023-10-02"),
        "implementation_status": status,
    }
    data.update(extra)
    return data


def build_sample(vault: Vault, tmp_path: Path, *, names_consent: bool = False) -> Sample:
    records = RecordService(vault)
    facility = records.add(
        "facility",
        {
            "official_name": "Слідчий ізолятор №1",
            "name_ru": "Следственный изолятор №1",
            "facility_type": "sizo",
            "capacity": 120,
        },
    )
    earlier = records.add("visit", visit_data(facility.id, "V-2023-07", "2023-10-02"))
    visit = records.add(
        "visit", visit_data(facility.id, "V-2024-03", "2024-03-12", kind="follow_up")
    )
    recs = [
        records.add(
            "recommendation",
            recommendation_data(
                "Зняти металеві листи з вікон",
                "Забезпечити доступ природного світла до камер: зняти металеві листи з вікон.",
                earlier.id,
                facility.id,
                "partially",
                follow_up=[{"visit": visit.id, "date": _date("2024-03-12"), "status": "partially"}],
            ),
        ),
        records.add(
            "recommendation",
            recommendation_data(
                "Журнал тілесних ушкоджень",
                "Вести журнал тілесних ушкоджень, виявлених при прийомі.",
                visit.id,
                facility.id,
                "not_implemented",
            ),
        ),
    ]
    person = records.add(
        "person",
        {
            "pseudonym": "W-017",
            "name": MARKER_NAME,
            "sex": "male",
            "counting_unit": "individual",
            "date_of_birth": _date("1990-05-17"),
            "health": "Скарги на біль у спині після 14 березня.",
        },
    )
    witness = records.add("person", {"pseudonym": "W-018", "name": "Ганна Свідчич"})
    case = records.add(
        "case",
        {
            "title": "Катування під час допиту, СІЗО №1",
            "case_type": "torture_allegation",
            "monitoring_status": "active",
            "initial_date": _date("2024-03"),
            "description": "Побиття під час допиту; вимагали зізнання. " + HOSTILE_TEXT,
            "violation_status": "likely",
            "acts": [
                {
                    "victim": person.id,
                    "act_type": "torture",
                    "methods": ["beating"],
                    "facility": facility.id,
                    "stated_reason": "«За сепаратизм»",
                }
            ],
            "proceedings": [
                {"articles": "ст. 127 КК України", "stage": "pre_trial", "court": "Суд №1"}
            ],
        },
    )
    records.link_person(witness.id, case.id, "witness_eye")
    scopes = ("anonymised_reports", "publication_with_name") if names_consent else ()
    interview = records.add(
        "interview",
        interview_data(
            "W-017",
            person.id,
            case.id,
            visit_id=visit.id,
            consent_value=consent(*scopes) if scopes else consent("anonymised_reports"),
            injuries=INJURIES,
        ),
    )
    evidence_path = tmp_path / "photo_back.jpg"
    evidence_path.write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40)
    EvidenceService(vault).add(evidence_path, case_id=case.id)
    return Sample(
        vault=vault,
        case_id=case.id,
        visit_id=visit.id,
        earlier_visit_id=earlier.id,
        facility_id=facility.id,
        person_id=person.id,
        witness_id=witness.id,
        interview_id=interview.id,
        recommendation_ids=[r.id for r in recs],
        evidence_path=evidence_path,
        evidence_sha256=hashlib.sha256(evidence_path.read_bytes()).hexdigest(),
    )


def pdf_text(path: Path) -> str:
    tool = require_tool("pdftotext")
    return subprocess.run(
        [tool, "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout


def pdf_pages(path: Path) -> int:
    tool = require_tool("pdfinfo")
    out = subprocess.run([tool, str(path)], capture_output=True, check=True, text=True).stdout
    match = re.search(r"^Pages:\s+(\d+)", out, re.MULTILINE)
    assert match, out
    return int(match.group(1))


def squash(text: str) -> str:
    """pdftotext output without line breaks and hyphen-free wraps, for long-token checks."""
    return re.sub(r"\s+", "", text)


def decompressed_streams(data: bytes) -> bytes:
    """Every Flate stream of a PDF, inflated (content streams, fonts, ToUnicode maps)."""
    out = [data]
    for match in re.finditer(rb"stream\r?\n", data):
        start = match.end()
        end = data.find(b"endstream", start)
        try:
            out.append(zlib.decompressobj().decompress(data[start:end]))
        except zlib.error:
            continue
    return b"\n".join(out)


def encodings_of(text: str) -> list[bytes]:
    return [
        text.encode("utf-8"),
        text.encode("utf-16-be"),
        text.encode("utf-16-le"),
        text.encode("cp1251"),
        text.encode("koi8-u"),
    ]


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sample]:
    """One profile shared by the tests that only read it (each writes into its own tmp_path)."""
    patch = pytest.MonkeyPatch()
    patch.setenv("FIELDKIT_INSECURE_TEST_KDF", "1")
    root = tmp_path_factory.mktemp("reports")
    vault = Vault.create(
        root / "monitor", STRONG_PASSPHRASE, Role.MONITOR, KdfParams.insecure_for_tests()
    )
    try:
        yield build_sample(vault, root)
    finally:
        vault.lock()
        patch.undo()


# --- the case file -------------------------------------------------------------------------------


def test_ukrainian_case_file_has_content_exactly_and_a_checkable_evidence_index(
    sample: Sample, tmp_path: Path
) -> None:
    out = tmp_path / "справа.pdf"
    result = ReportService(sample.vault).case_file(sample.case_id, out, "uk")
    assert result.path == out
    assert out.is_file()
    assert result.pages == pdf_pages(out) >= 4
    text = pdf_text(out)
    # Headings and vocabulary labels in Ukrainian; content exactly as entered.
    for expected in ("Справа", "Особи", "Інтерв’ю", "Перелік доказів", "Катування"):
        assert expected in text, expected
    flat = " ".join(text.split())
    assert " ".join(UK_NARRATIVE.split()) in flat
    assert " ".join(RU_NARRATIVE.split()) in flat
    assert "<b>не жирний</b> & <font" in flat  # mark-up shown as typed, never interpreted
    assert "W-017" in text
    assert "W-018" in text
    # The evidence index lets a lawyer check the file: full SHA-256 as sha256sum prints it.
    tool = require_tool("sha256sum")
    line = subprocess.run(
        [tool, str(sample.evidence_path)], capture_output=True, check=True, text=True
    ).stdout
    assert line.split()[0] == sample.evidence_sha256
    assert sample.evidence_sha256 in squash(text)
    assert "sha256sum" in text
    assert "photo_back.jpg" in text
    # Page N of M, generation time and the device key ID (minisign) on the pages.
    assert f"Сторінка 1 з {result.pages}" in text
    assert f"Сторінка {result.pages} з {result.pages}" in text
    key_id = sample.vault.device_key_fingerprint
    flat = " ".join(text.split())
    assert f"Ідентифікатор ключа пристрою (minisign) {key_id}" in flat
    assert flat.count(f"(minisign) {key_id}") >= result.pages  # every footer
    assert "Відбиток" not in flat


def test_signature_verifies_with_minisign_and_fails_after_a_change(
    sample: Sample, tmp_path: Path
) -> None:
    minisign = require_tool("minisign")
    from fieldkit.export.reports.signature import public_key_text

    out = tmp_path / "case.pdf"
    result = ReportService(sample.vault).case_file(sample.case_id, out, "en")
    assert result.signature_path == tmp_path / "case.pdf.minisig"
    pub = tmp_path / "device.pub"
    pub.write_text(public_key_text(sample.vault.device_public_key))
    # The ID the report prints is minisign's key id: 16 upper-case hex digits, the same as in
    # device.pub's comment line (what minisign -G writes and trust lists carry).
    key_id = sample.vault.device_key_fingerprint
    assert re.fullmatch(r"[0-9A-F]{16}", key_id)
    assert pub.read_text().splitlines()[0].endswith(key_id)
    flat = " ".join(pdf_text(out).split())
    assert f"Device key ID (minisign) {key_id}" in flat
    assert "Compare the device key ID (minisign) with the one your organisation holds" in flat
    assert "fingerprint" not in flat
    ok = subprocess.run(
        [minisign, "-Vm", str(out), "-p", str(pub)], capture_output=True, text=True, check=False
    )
    assert ok.returncode == 0, ok.stderr
    assert f"sha256:{result.sha256}" in ok.stdout
    assert hashlib.sha256(out.read_bytes()).hexdigest() == result.sha256
    data = bytearray(out.read_bytes())
    data[len(data) // 2] ^= 0x01
    out.write_bytes(bytes(data))
    bad = subprocess.run(
        [minisign, "-Vm", str(out), "-p", str(pub)], capture_output=True, text=True, check=False
    )
    assert bad.returncode != 0


def test_pseudonymous_case_file_holds_no_real_name_in_any_encoding(
    sample: Sample, tmp_path: Path
) -> None:
    from fieldkit.export.reports.case_file import build_case_file

    out = tmp_path / "case.pdf"
    ReportService(sample.vault).case_file(sample.case_id, out, "uk")
    text = pdf_text(out)
    assert MARKER_NAME not in text
    assert "Тестовий" not in text
    assert "Маркер" not in text
    assert "Ганна" not in text
    assert "1990-05-17" not in text  # date of birth is identifying
    raw = out.read_bytes()
    inflated = decompressed_streams(raw)
    for needle in encodings_of(MARKER_NAME) + encodings_of("Маркер"):
        assert needle not in raw
        assert needle not in inflated
    # The same report with page compression off: the marker is in no content stream either.
    data = ReportService(sample.vault).gather_case(sample.case_id)
    import io
    from datetime import UTC, datetime

    from fieldkit.export.reports.common import ReportMeta
    from fieldkit.i18n import get_translator

    meta = ReportMeta(
        translator=get_translator("uk"),
        generated_at=datetime.now(UTC),
        device_id=sample.vault.device_id,
        device_fingerprint=sample.vault.device_key_fingerprint,
        document_title="test",
    )
    buffer = io.BytesIO()
    build_case_file(buffer, data, meta, compress=False)
    for needle in encodings_of(MARKER_NAME) + encodings_of("Тестов"):
        assert needle not in buffer.getvalue()
    assert "W-017" in text


def test_names_appear_only_with_the_option_and_the_persons_consent(
    new_vault: Vault, tmp_path: Path
) -> None:
    sample = build_sample(new_vault, tmp_path, names_consent=True)
    service = ReportService(sample.vault)
    without = tmp_path / "without.pdf"
    service.case_file(sample.case_id, without, "uk")
    assert MARKER_NAME not in pdf_text(without)
    named = tmp_path / "named.pdf"
    service.case_file(sample.case_id, named, "uk", include_names=True)
    text = pdf_text(named)
    assert MARKER_NAME in " ".join(text.split())
    # The witness gave no consent to publication: still pseudonymous, and the report says why.
    assert "Ганна Свідчич" not in text
    assert "W-018" in text
    assert "приховано" in text


def test_declined_publication_keeps_the_name_out_even_with_names(
    new_vault: Vault, tmp_path: Path
) -> None:
    sample = build_sample(new_vault, tmp_path)
    records = RecordService(sample.vault)
    current = records.get(sample.interview_id)
    data = dict(current.data)
    data["consent"] = consent("anonymised_reports", declined=("publication_with_name",))
    records.update(sample.interview_id, data, current.revision)
    out = tmp_path / "named.pdf"
    ReportService(sample.vault).case_file(sample.case_id, out, "en", include_names=True)
    text = pdf_text(out)
    assert MARKER_NAME not in text
    # The reason comes from the disclosure policy and names the consent scope.
    assert "consent declined: Publication with name" in " ".join(text.split())


def test_a_name_written_into_a_narrative_is_replaced_by_the_code(
    new_vault: Vault, tmp_path: Path
) -> None:
    sample = build_sample(new_vault, tmp_path)
    records = RecordService(sample.vault)
    current = records.get(sample.interview_id)
    data = dict(current.data)
    data["narrative"] = "Олександра Тестового-Маркера били двоє. " + UK_NARRATIVE
    records.update(sample.interview_id, data, current.revision)
    out = tmp_path / "case.pdf"
    ReportService(sample.vault).case_file(sample.case_id, out, "uk")
    flat = " ".join(pdf_text(out).split())
    assert "Тестов" not in flat
    assert "Олександр" not in flat
    assert "[W-017] били двоє." in flat


def test_english_and_russian_case_files_translate_headings_not_content(
    sample: Sample, tmp_path: Path
) -> None:
    service = ReportService(sample.vault)
    en, ru = tmp_path / "en.pdf", tmp_path / "ru.pdf"
    service.case_file(sample.case_id, en, "en")
    service.case_file(sample.case_id, ru, "ru")
    en_text, ru_text = pdf_text(en), pdf_text(ru)
    assert "Evidence index" in en_text
    assert "Persons" in en_text
    assert "Перечень доказательств" in ru_text
    assert "Лица" in ru_text
    for text in (en_text, ru_text):
        assert " ".join(UK_NARRATIVE.split()) in " ".join(text.split())
    assert "Torture" in en_text
    assert "Пытки" in ru_text


def test_injuries_are_numbered_on_the_diagram_and_in_the_legend(
    sample: Sample, tmp_path: Path
) -> None:
    out = tmp_path / "case.pdf"
    ReportService(sample.vault).case_file(sample.case_id, out, "uk")
    text = " ".join(pdf_text(out).split())
    assert "Спереду" in text
    assert "Ззаду" in text
    assert "удари кийком" in text
    assert "синьо-фіолетовий" in text
    assert "(не зображено)" in text  # the head view mark is listed, not drawn


def test_empty_case_renders(new_vault: Vault, tmp_path: Path) -> None:
    case = RecordService(new_vault).add(
        "case",
        {"title": "Порожня справа", "case_type": "other", "monitoring_status": "pending"},
    )
    out = tmp_path / "empty.pdf"
    result = ReportService(new_vault).case_file(case.id, out, "uk")
    assert result.pages == pdf_pages(out) >= 3
    text = pdf_text(out)
    assert "До справи не додано жодної особи." in " ".join(text.split())


def test_long_unbroken_words_wrap_instead_of_overflowing(new_vault: Vault, tmp_path: Path) -> None:
    token = "Щ" * 250 + "x" * 250
    hexes = "0123456789abcdef" * 8
    records = RecordService(new_vault)
    case = records.add(
        "case",
        {
            "title": "Довгі слова",
            "case_type": "other",
            "monitoring_status": "active",
            "description": token,
            "impact": hexes,
            "proceedings": [{"articles": token, "court": hexes, "stage": "trial"}],
        },
    )
    out = tmp_path / "long.pdf"
    ReportService(new_vault).case_file(case.id, out, "en")
    flat = squash(pdf_text(out))
    assert token in flat
    assert hexes in flat
    # Nothing is drawn outside the page: pdftotext with a crop box of the page finds it all.
    tool = require_tool("pdftotext")
    bbox = subprocess.run(
        [tool, "-bbox", str(out), "-"], capture_output=True, text=True, check=True
    ).stdout
    xmax = [float(v) for v in re.findall(r'xMax="([\d.]+)"', bbox)]
    assert xmax
    assert max(xmax) <= 595.3


def test_existing_file_is_refused_unless_overwrite(sample: Sample, tmp_path: Path) -> None:
    out = tmp_path / "case.pdf"
    out.write_bytes(b"a lawyer's own file")
    service = ReportService(sample.vault)
    with pytest.raises(FieldkitError) as caught:
        service.case_file(sample.case_id, out, "en")
    assert caught.value.code == ErrorCode.FILE_EXISTS
    assert out.read_bytes() == b"a lawyer's own file"
    service.case_file(sample.case_id, out, "en", overwrite=True)
    assert out.read_bytes().startswith(b"%PDF")


def test_cancel_writes_nothing(sample: Sample, tmp_path: Path) -> None:
    out = tmp_path / "case.pdf"
    token = CancelToken()
    seen: list[str] = []

    def progress(done: int, total: int, stage: str) -> None:
        seen.append(stage)
        if stage == "rendering" and done > 3:
            token.cancel()

    with pytest.raises(FieldkitError) as caught:
        ReportService(sample.vault).case_file(
            sample.case_id, out, "en", progress=progress, cancel=token
        )
    assert caught.value.code == ErrorCode.CANCELLED
    assert "rendering" in seen
    assert list(tmp_path.glob("*.pdf*")) == []
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".case.pdf")]


def test_wrong_record_type_and_bad_arguments_are_clear(sample: Sample, tmp_path: Path) -> None:
    service = ReportService(sample.vault)
    with pytest.raises(FieldkitError) as caught:
        service.case_file(sample.visit_id, tmp_path / "x.pdf", "en")
    assert caught.value.code == ErrorCode.RECORD_WRONG_TYPE
    assert "not a case record" in caught.value.message()
    with pytest.raises(FieldkitError) as caught:
        service.visit_report(sample.case_id, tmp_path / "x.pdf", "en")
    assert "not a visit record" in caught.value.message()
    with pytest.raises(FieldkitError) as caught:
        service.case_file(sample.case_id, tmp_path / "x.pdf", "de")
    assert caught.value.code == ErrorCode.INVALID_ARGUMENT
    with pytest.raises(FieldkitError) as caught:
        service.case_file(sample.case_id, tmp_path / "x.txt", "en")
    assert ".pdf" in caught.value.message()
    with pytest.raises(FieldkitError) as caught:
        service.case_file(sample.case_id, tmp_path / "missing" / "x.pdf", "en")
    assert caught.value.code == ErrorCode.FOLDER_NOT_FOUND
    (tmp_path / "a folder.pdf").mkdir()
    with pytest.raises(FieldkitError) as caught:
        service.case_file(sample.case_id, tmp_path / "a folder.pdf", "en", overwrite=True)
    assert caught.value.code == ErrorCode.FILE_NOT_WRITABLE
    assert "це тека, а не файл" in caught.value.message(get_translator("uk"))
    with pytest.raises(FieldkitError) as caught:
        service.case_file("00000000-0000-4000-8000-000000000000", tmp_path / "x.pdf", "en")
    assert caught.value.code == ErrorCode.RECORD_NOT_FOUND
    assert [p for p in tmp_path.glob("*.pdf") if not p.is_dir()] == []


# --- the visit report ------------------------------------------------------------------------


def test_visit_report_in_npm_structure_with_facility_history(
    sample: Sample, tmp_path: Path
) -> None:
    out = tmp_path / "visit.pdf"
    result = ReportService(sample.vault).visit_report(sample.visit_id, out, "uk")
    assert result.pages == pdf_pages(out)
    text = pdf_text(out)
    flat = " ".join(text.split())
    assert "Звіт про візит" in flat
    assert "Слідчий ізолятор №1" in flat
    # Obstructions, population with occupancy, the conditions table with m² per person.
    assert "Чекали біля воріт 47 хвилин: «чекайте начальника»." in flat
    assert "140" in flat  # occupancy 168 of 120 = 140 %
    assert "Камера 14" in flat
    assert "Карцер" in flat
    assert "2" in flat
    assert "7" in flat
    assert "Нижче мінімуму ЄКПТ" in flat
    assert "13,02 м² (4,2 м × 3,1 м)" in flat  # worked out from the walls
    assert "47 хв" in flat  # admission delay 09:00 → 09:47
    # Findings and the facility history: each recommendation's status at each visit.
    assert "Журнал тілесних ушкоджень" in flat
    assert "Історія установи" in flat
    # Ukrainian papers write DD.MM.YYYY (T-15); ISO stays in the signature block.
    assert "02.10.2023" in flat
    assert "12.03.2024" in flat
    assert "2023-10-02" not in flat
    assert "Виконано частково" in flat
    assert "Не виконано" in flat
    # Interviews only by code; no names.
    assert MARKER_NAME not in flat


def test_visit_report_in_english_translates_headings(sample: Sample, tmp_path: Path) -> None:
    out = tmp_path / "visit.pdf"
    ReportService(sample.vault).visit_report(sample.visit_id, out, "en")
    flat = " ".join(pdf_text(out).split())
    assert "Visit report" in flat
    assert "Facility history" in flat
    # The banner follows the visit's report confidentiality level; "prepared by" comes from it.
    assert "RESTRICTED: for the administration of the facility visited." in flat
    assert "CONFIDENTIAL" not in flat
    assert "Prepared by NPM-4" in flat
    assert "Below the CPT minimum" in flat
    assert "Чекали біля воріт" in flat  # content as entered
    # Column headings wrap at spaces only ("Occupants", not "Occupant" / "s").
    assert "Occupants" in flat
    assert "Device key ID (minisign)" in flat


def test_cells_taller_than_a_page_split_across_pages(new_vault: Vault, tmp_path: Path) -> None:
    """A 2,000-character cause in a narrow legend column is taller than a page: it must split."""
    sample = build_sample(new_vault, tmp_path)
    records = RecordService(sample.vault)
    current = records.get(sample.interview_id)
    data = dict(current.data)
    cause = " ".join(f"удар{n}" for n in range(330))[:2000]
    data["injuries"] = [{**INJURIES[0], "reported_cause": cause, "notes": cause * 2}]
    records.update(sample.interview_id, data, current.revision)
    out = tmp_path / "case.pdf"
    ReportService(sample.vault).case_file(sample.case_id, out, "uk")
    flat = squash(pdf_text(out))
    assert squash(cause) in flat


def test_every_font_of_a_report_is_embedded(sample: Sample, tmp_path: Path) -> None:
    """A PDF must print the same anywhere: no font may be left to the reader's machine."""
    pdffonts = require_tool("pdffonts")
    out = tmp_path / "case.pdf"
    ReportService(sample.vault).case_file(sample.case_id, out, "ru")
    listing = subprocess.run(
        [pdffonts, str(out)], capture_output=True, check=True, text=True
    ).stdout.splitlines()[2:]
    assert listing
    for line in listing:
        # name type encoding emb sub uni object-number generation: emb is fifth from the end
        assert line.split()[-5] == "yes", f"font not embedded: {line}"
