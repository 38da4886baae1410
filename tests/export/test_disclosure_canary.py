"""Leak tests: every report for every audience, searched for every name, code and marker.

The canary profile (``canary_kit``) fills every free-text field of every form with the names and
codes of three synthetic persons and a marker of the record it belongs to. Each report is written
as a real signed PDF for each audience; its text (pdftotext) and its bytes (raw and with every
stream inflated, in UTF-8 and UTF-16) must hold no name unless the person consented to
publication with name and names were asked for, no person code for audiences that may not see
codes, and no marker of a person's records for an audience that person did not consent to.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from fieldkit.crypto.kdf import KdfParams
from fieldkit.domain.disclosure import Audience
from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.domain.forms import FieldType, children, load_template
from fieldkit.domain.profile import Role
from fieldkit.export.reports.case_file import build_case_file
from fieldkit.export.reports.common import ReportMeta
from fieldkit.export.reports.visit_report import build_visit_report
from fieldkit.i18n import get_translator
from fieldkit.services.reports import ReportService
from fieldkit.storage.vault import Vault
from tests.export.canary_kit import (
    ALL_CODES,
    ALL_NAMES,
    LOOSE_CODE,
    PERSONS,
    CanaryProfile,
    build_canary_profile,
    build_canary_views,
    canary_text,
    tokens_in,
)
from tests.export.test_reports import decompressed_streams, pdf_text
from tests.helpers import STRONG_PASSPHRASE

NO_CODES = {Audience.FACILITY, Audience.AUTHORITY, Audience.PUBLIC}
FORMS = ("case", "facility", "interview", "person", "recommendation", "visit")


@pytest.fixture(scope="module")
def canary(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CanaryProfile]:
    patch = pytest.MonkeyPatch()
    patch.setenv("FIELDKIT_INSECURE_TEST_KDF", "1")
    root = tmp_path_factory.mktemp("canary")
    vault = Vault.create(
        root / "profile", STRONG_PASSPHRASE, Role.COORDINATOR, KdfParams.insecure_for_tests()
    )
    try:
        yield build_canary_profile(vault, root)
    finally:
        vault.lock()
        patch.undo()


def _bytes_hold(data: bytes, token: str) -> bool:
    inflated = decompressed_streams(data)
    needles = [token.encode("utf-8"), token.encode("utf-16-be"), token.encode("utf-16-le")]
    return any(n in data or n in inflated for n in needles)


def _leaks(path: Path, tokens: tuple[str, ...]) -> list[str]:
    text = pdf_text(path)
    found = tokens_in(text, tokens)
    raw = path.read_bytes()
    found += [f"{t} (bytes)" for t in tokens if _bytes_hold(raw, t)]
    return found


def test_every_text_field_of_every_form_holds_a_canary() -> None:
    expected = set()
    for form in FORMS:
        template = load_template(form)
        for f in template.fields:
            subs = [(f"{f.id}.{s.id}", s) for s in children(f)] if f.type == FieldType.GROUP else []
            for path, g in [(f.id, f), *subs]:
                if g.type in (FieldType.TEXT, FieldType.LONGTEXT) and g.format != "code":
                    expected.add(f"{form}.{path}")
    assert len(expected) > 150
    assert expected <= build_canary_views().filled.text_fields


def _render(kind: str, audience: Audience, names: bool, out: Path, lang: str = "en") -> Path:
    views = build_canary_views()
    meta = ReportMeta(
        translator=get_translator(lang),
        generated_at=datetime.now(UTC),
        device_id="canary-device",
        device_fingerprint="0123456789ABCDEF",
        document_title="canary",
        prepared_by=canary_text("CANARYTXT-PREP"),
        include_names=names,
        audience=audience,
    )
    buffer = io.BytesIO()
    if kind == "case":
        build_case_file(buffer, views.case, meta)
    else:
        build_visit_report(buffer, views.visit, meta)
    out.write_bytes(buffer.getvalue())
    return out


def _forbidden(audience: Audience, names: bool, allowed: dict[str, bool]) -> list[str]:
    forbidden: list[str] = []
    for p in PERSONS:
        if not (names and p.key == "A"):  # only A consented to publication with name
            forbidden += p.names
        if not allowed[p.key]:
            forbidden += [f"CANARYTXT-I{p.key}-", f"CANARYTXT-P{p.key}-"]
    if audience in NO_CODES:
        forbidden += ALL_CODES
    # B withdrew consent to injury photographs: the item is listed, never described.
    forbidden += ["EVCANARY-INJURY-B", "CANARYTXT-EB"]
    if not allowed["C"]:
        forbidden += ["EVCANARY-PHOTO-C", "CANARYTXT-EC"]
    if not allowed["B"]:
        forbidden += ["CANARYTXT-K-"]  # the case is about B
    return forbidden


# Who may have each person's material, by the table in docs/disclosure.md (not by asking the
# policy): A consented to every audience, B to international bodies and anonymised reports, and
# C to nothing beyond the interview.
ALLOWED: dict[Audience, dict[str, bool]] = {
    a: {
        "A": True,
        "B": a
        in (Audience.ORGANISATION, Audience.COUNSEL, Audience.INTERNATIONAL, Audience.PUBLIC),
        "C": a == Audience.ORGANISATION,
    }
    for a in Audience
}


@pytest.mark.slow
@pytest.mark.parametrize("audience", list(Audience))
def test_every_field_filled_case_file_leaks_nothing(audience: Audience, tmp_path: Path) -> None:
    for names, lang in ((False, "en"), (True, "en"), (False, "uk")):
        out = _render("case", audience, names, tmp_path / f"case-{names}-{lang}.pdf", lang)
        assert _leaks(out, tuple(_forbidden(audience, names, ALLOWED[audience]))) == [], names
        text = pdf_text(out)
        assert ("withheld" if lang == "en" else "приховано") in text
        if ALLOWED[audience]["B"]:
            assert tokens_in(text, ("CANARYTXT-IB-", "CANARYTXT-K-")) == [
                "CANARYTXT-IB-",
                "CANARYTXT-K-",
            ]
        if audience == Audience.ORGANISATION:
            assert tokens_in(text, ("CANARYTXT-IC-", "CQA-101", "EVCANARY-PHOTO-A"))
            if names:
                assert tokens_in(text, PERSONS[0].names) == list(PERSONS[0].names)


@pytest.mark.slow
@pytest.mark.parametrize("audience", list(Audience))
@pytest.mark.parametrize("lang", ["en", "ru"])
def test_every_field_filled_visit_report_leaks_nothing(
    audience: Audience, lang: str, tmp_path: Path
) -> None:
    out = _render("visit", audience, False, tmp_path / "visit.pdf", lang)
    forbidden = list(ALL_NAMES)
    if audience in NO_CODES:
        forbidden += [*ALL_CODES, "CANARYTXT-W"]
    assert _leaks(out, tuple(forbidden)) == []
    text = pdf_text(out)
    assert tokens_in(text, ("CANARYTXT-V-",))
    if audience == Audience.ORGANISATION:
        assert tokens_in(text, ("CQA-101", LOOSE_CODE)) == ["CQA-101", LOOSE_CODE]


# --- the same through the services, on a real profile ---------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("audience", list(Audience))
def test_case_file_leaks_nothing_the_audience_may_not_have(
    canary: CanaryProfile, audience: Audience, tmp_path: Path
) -> None:
    service = ReportService(canary.vault)
    for names in (False, True):
        out = tmp_path / f"case-{audience.value}-{names}.pdf"
        service.case_file(canary.case_id, out, "en", include_names=names, audience=audience)
        forbidden = _forbidden(audience, names, ALLOWED[audience])
        forbidden = [t for t in forbidden if t != "CANARYTXT-EB"] + ["CANARYTXT-EINJ"]
        if not ALLOWED[audience]["C"]:
            forbidden.append("CANARYTXT-EPC")
        assert _leaks(out, tuple(forbidden)) == [], (audience, names)
        text = pdf_text(out)
        # The test can see what it looks for: the organisation's file holds A's material.
        if audience == Audience.ORGANISATION:
            assert tokens_in(text, ("CANARYTXT-IA-", "CANARYTXT-IB-", "CQA-101"))
            assert tokens_in(text, ("EVCANARY-PHOTO-A",))
            if names:
                assert tokens_in(text, ALL_NAMES[:2]) == list(ALL_NAMES[:2])
        assert "withheld" in text


@pytest.mark.slow
@pytest.mark.parametrize("audience", list(Audience))
def test_visit_report_leaks_nothing_the_audience_may_not_have(
    canary: CanaryProfile, audience: Audience, tmp_path: Path
) -> None:
    service = ReportService(canary.vault)
    out = tmp_path / f"visit-{audience.value}.pdf"
    service.visit_report(canary.visit_id, out, "en", audience=audience)
    forbidden = list(ALL_NAMES)
    if audience in NO_CODES:
        forbidden += ALL_CODES
    assert _leaks(out, tuple(forbidden)) == [], audience
    text = pdf_text(out)
    assert tokens_in(text, ("CANARYTXT-V-",))  # the visit's own text is there, redacted
    if audience == Audience.ORGANISATION:
        assert tokens_in(text, ("CQA-101",))
    blocked = tmp_path / f"blocked-{audience.value}.pdf"
    if audience in (Audience.FACILITY, Audience.AUTHORITY):
        with pytest.raises(FieldkitError) as caught:
            service.visit_report(canary.blocked_visit_id, blocked, "en", audience=audience)
        assert caught.value.code == ErrorCode.AUDIENCE_BLOCKED
        assert "CQB-202" in caught.value.message()
        assert not blocked.exists()
    else:
        service.visit_report(canary.blocked_visit_id, blocked, "en", audience=audience)
        assert _leaks(blocked, tuple(forbidden)) == [], audience
