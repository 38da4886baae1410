"""Report use cases: the PDF case file for lawyers and the NPM visit report.

Each call gathers what the report shows in one read transaction (records, links, evidence items and
their custody events), lays the PDF out in memory, signs it with the device key, and only then
writes ``FILE.pdf`` and ``FILE.pdf.minisig`` where the person asked: each through a temporary name
in the destination folder, fsync, rename, fsync of the folder. A PDF is plaintext by nature, so
nothing of it is ever written anywhere else (no temporary file in /tmp, none in the profile).
Cancelling, or any failure, leaves the destination as it was.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import hashlib
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from sqlalchemy.orm import Session

from fieldkit.domain.disclosure import (
    AUDIENCE_LABELS,
    Audience,
    DisclosurePolicy,
    parse_audience,
)
from fieldkit.domain.disclosure.audiences import REPORT_CONFIDENTIALITY_AUDIENCES
from fieldkit.domain.errors import ErrorCode, FieldkitError, TranslatableText
from fieldkit.domain.oserrors import os_reason
from fieldkit.domain.profile import Role
from fieldkit.domain.progress import CancelToken, ProgressFn, check_cancel
from fieldkit.domain.records import record_type_name
from fieldkit.export.reports.audience import People, interviewee_of
from fieldkit.export.reports.case_file import build_case_file
from fieldkit.export.reports.common import (
    AUDIENCE_BANNERS,
    CONFIDENTIALITY_BANNERS,
    BuildControl,
    ReportMeta,
)
from fieldkit.export.reports.data import (
    CaseFileData,
    EarlierOutput,
    EvidenceView,
    RecordView,
    VisitReportData,
)
from fieldkit.export.reports.people import by_code, by_date
from fieldkit.export.reports.signature import sign_detached
from fieldkit.export.reports.visit_report import build_visit_report
from fieldkit.i18n import SUPPORTED_LANGUAGES, _, get_translator
from fieldkit.services.evidence_audience import record_view
from fieldkit.services.roles import hub_lawyer
from fieldkit.storage.disclosures import earlier_disclosures, record_disclosure
from fieldkit.storage.fsutil import atomic_write_bytes
from fieldkit.storage.records import LinkView, RecordStore
from fieldkit.storage.records import RecordView as StoredRecord
from fieldkit.storage.search import RecordFilters
from fieldkit.storage.vault import Vault

SIGNATURE_SUFFIX = ".minisig"
CASE_FILE = "case_file"
MAX_HISTORY_RECORDS = 1000
PERSON_PAGE = 500


@dataclass(frozen=True)
class ReportResult:
    """What was written: the PDF, its signature, its page count and SHA-256."""

    path: Path
    signature_path: Path
    pages: int
    sha256: str
    size: int
    # Items an earlier file for the same audience disclosed and this one withholds.
    withheld_since: int = 0


class ReportService:
    """Builds reports from an unlocked vault; safe to call from a worker thread."""

    def __init__(self, vault: Vault) -> None:
        self._vault = vault
        self._store = RecordStore(vault.device_id)

    # --- public API ---------------------------------------------------------------------------

    def case_file(
        self,
        case_id: str,
        out_path: Path | str,
        lang: str = "en",
        include_names: bool = False,
        progress: ProgressFn | None = None,
        cancel: CancelToken | None = None,
        *,
        overwrite: bool = False,
        prepared_by: str = "",
        audience: Audience | str = Audience.ORGANISATION,
    ) -> ReportResult:
        """Write the case file of ``case_id`` for ``audience`` to ``out_path`` and its
        ``.minisig`` beside it. Records and evidence the audience may not have are listed as
        withheld with the reason."""
        chosen = parse_audience(audience) if isinstance(audience, str) else audience
        target = self._checked_target(out_path, overwrite)
        translator = self._translator(lang)
        _ = translator.gettext
        _report(progress, 0, 0, "gathering")
        data = self.gather_case(case_id, cancel)
        check_cancel(cancel)
        meta = self._meta(
            translator,
            _("Case file {code}").format(code=_short(data.case.id)),
            include_names=include_names,
            prepared_by=prepared_by,
            confidentiality=AUDIENCE_BANNERS.get(chosen, "confidential"),
            audience=chosen,
        )
        # A lawyer on a hub writes nothing there: their case files are not in its ledger.
        ledger = not hub_lawyer(self._vault)
        earlier: list[EarlierOutput] = []
        if ledger:
            with self._vault.session() as s:
                earlier = [
                    EarlierOutput(e.made_at, e.disclosed)
                    for e in earlier_disclosures(
                        s, subject_id=data.case.id, kind=CASE_FILE, audience=chosen.value
                    )
                ]
        data = dataclasses.replace(data, earlier=earlier)
        buffer = io.BytesIO()
        disclosed: list[str] = []
        pages = build_case_file(
            buffer, data, meta, BuildControl(progress=progress, cancel=cancel), disclosed=disclosed
        )
        result = self._finish(buffer.getvalue(), pages, target, "case file", data.case.id, cancel)
        now_withheld = {i for e in earlier for i in e.disclosed} - set(disclosed)
        if not ledger:
            return dataclasses.replace(result, withheld_since=len(now_withheld & _known(data)))
        with self._vault.session() as s:
            record_disclosure(
                s,
                subject_id=data.case.id,
                kind=CASE_FILE,
                audience=chosen.value,
                made_at=meta.generated_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                sha256=result.sha256,
                disclosed=disclosed,
            )
        return dataclasses.replace(result, withheld_since=len(now_withheld & _known(data)))

    def visit_report(
        self,
        visit_id: str,
        out_path: Path | str,
        lang: str = "en",
        progress: ProgressFn | None = None,
        cancel: CancelToken | None = None,
        *,
        overwrite: bool = False,
        prepared_by: str = "",
        audience: Audience | str | None = None,
    ) -> ReportResult:
        """Write the NPM visit report of ``visit_id`` with the facility's recommendation history.

        The audience is ``audience`` when given, else the visit's report confidentiality. The
        report is refused (``AUDIENCE_BLOCKED``, nothing written) when a linked interview's
        person declined every consent that audience needs.
        """
        chosen = parse_audience(audience) if isinstance(audience, str) else audience
        target = self._checked_target(out_path, overwrite)
        translator = self._translator(lang)
        _ = translator.gettext
        _report(progress, 0, 0, "gathering")
        data = self.gather_visit(visit_id, cancel)
        check_cancel(cancel)
        level = str(data.visit.data.get("report_confidentiality") or "")
        if chosen is None:
            chosen = REPORT_CONFIDENTIALITY_AUDIENCES.get(level, Audience.ORGANISATION)
        check_not_blocked(data, DisclosurePolicy(chosen))
        banner = AUDIENCE_BANNERS.get(chosen)
        if banner is None:
            banner = "internal" if level == "internal" else "confidential"
        from fieldkit.export.reports.people import record_code

        meta = self._meta(
            translator,
            _("Visit report {code}").format(code=record_code(data.visit)),
            include_names=False,
            prepared_by=prepared_by or str(data.visit.data.get("prepared_by") or ""),
            confidentiality=banner if banner in CONFIDENTIALITY_BANNERS else "confidential",
            audience=chosen,
        )
        buffer = io.BytesIO()
        pages = build_visit_report(
            buffer, data, meta, BuildControl(progress=progress, cancel=cancel)
        )
        return self._finish(buffer.getvalue(), pages, target, "visit report", data.visit.id, cancel)

    # --- gathering ----------------------------------------------------------------------------

    def gather_case(self, case_id: str, cancel: CancelToken | None = None) -> CaseFileData:
        """Everything a case file shows, read in one transaction."""
        if self._vault.role == Role.LAWYER and self._vault.hub is None:
            # A lawyer's profile holds the case as the organisation's package delivered it
            # (on a hub, the database shows a lawyer's role only the cases shared with it).
            from fieldkit.services.package_review import case_data

            return case_data(self._vault, case_id)[0]
        with self._vault.session() as s:
            case = self._live(s, case_id, "case")
            persons: dict[str, None] = {}
            interviews: dict[str, None] = {}
            visits: dict[str, None] = {}
            recommendations: dict[str, None] = {}
            evidence: dict[str, None] = {}
            facilities: dict[str, None] = {}
            buckets = {
                "person": persons,
                "interview": interviews,
                "visit": visits,
                "recommendation": recommendations,
                "evidence": evidence,
                "facility": facilities,
            }
            roles: dict[str, list[str]] = {}
            for link in self._links(s, case.id):
                if link.kind == "person_case" and link.to_id == case.id and link.role:
                    roles.setdefault(link.from_id, []).append(link.role)
            for other, kind in self._linked(s, case.id):
                bucket = buckets.get(kind)
                if bucket is not None:
                    bucket[other] = None
            for interview_id in list(interviews):
                check_cancel(cancel)
                for other, kind in self._linked(s, interview_id):
                    # facilities too: the places of detention and episodes name them
                    if kind in ("person", "visit", "evidence", "facility"):
                        buckets[kind][other] = None
            for visit_id in list(visits):
                for other, kind in self._linked(s, visit_id):
                    if kind in ("facility", "recommendation"):
                        buckets[kind][other] = None
            loaded = {
                kind: self._load_many(s, ids, kind, cancel)
                for kind, ids in buckets.items()
                if kind != "evidence"
            }
            others = self._all_persons(s, persons, cancel)
        items = self._evidence(evidence, cancel)
        return CaseFileData(
            case=_view(case),
            persons=by_code(loaded["person"]),
            interviews=by_date(loaded["interview"]),
            visits=by_date(loaded["visit"]),
            recommendations=by_date(loaded["recommendation"]),
            evidence=items,
            facilities={f.id: f for f in loaded["facility"]},
            person_roles=roles,
            other_persons=others,
        )

    def gather_visit(self, visit_id: str, cancel: CancelToken | None = None) -> VisitReportData:
        """A visit, its facility, its recommendations, interviews and the facility's history."""
        with self._vault.session() as s:
            visit = self._live(s, visit_id, "visit")
            linked: dict[str, dict[str, None]] = {}
            for other, kind in self._linked(s, visit.id):
                linked.setdefault(kind, {})[other] = None
            facility_id = visit.facility_id or next(iter(linked.get("facility", {})), None)
            facility = self._optional(s, facility_id, "facility") if facility_id else None
            recommendations = self._load_many(
                s, linked.get("recommendation", {}), "recommendation", cancel
            )
            interviews = self._load_many(s, linked.get("interview", {}), "interview", cancel)
            interviewees = dict.fromkeys(p for p in map(interviewee_of, interviews) if p)
            persons = self._load_many(s, interviewees, "person", cancel)
            others = self._all_persons(s, interviewees, cancel)
            history_visits: list[RecordView] = []
            history_recs: list[RecordView] = []
            if facility is not None:
                history_visits = [
                    _view(r)
                    for r in self._store.list(
                        s,
                        RecordFilters(types=("visit",), facility_id=facility.id),
                        limit=MAX_HISTORY_RECORDS,
                    )
                ]
                rec_ids: dict[str, None] = {}
                for other, kind in self._linked(s, facility.id):
                    if kind == "recommendation":
                        rec_ids[other] = None
                for past in history_visits:
                    check_cancel(cancel)
                    for other, kind in self._linked(s, past.id):
                        if kind == "recommendation":
                            rec_ids[other] = None
                history_recs = self._load_many(s, rec_ids, "recommendation", cancel)
        items = self._evidence(linked.get("evidence", {}), cancel)
        return VisitReportData(
            visit=_view(visit),
            facility=facility,
            recommendations=by_date(recommendations),
            interviews=by_date(interviews),
            history_visits=by_date(history_visits),
            history_recommendations=by_date(history_recs),
            evidence=items,
            persons=persons,
            other_persons=others,
        )

    def _all_persons(
        self, s: Session, skip: Mapping[str, None], cancel: CancelToken | None
    ) -> list[RecordView]:
        """Every other person of the profile: a name typed anywhere is replaced by the report."""
        out: list[RecordView] = []
        offset = 0
        while True:
            check_cancel(cancel)
            page = self._store.list(
                s, RecordFilters(types=("person",)), offset=offset, limit=PERSON_PAGE
            )
            out.extend(_view(r) for r in page if r.id not in skip)
            if len(page) < PERSON_PAGE:
                return out
            offset += PERSON_PAGE

    def _live(self, s: Session, record_id: str, expected: str) -> StoredRecord:
        record = self._store.get(s, record_id, include_deleted=False)
        if record.type != expected:
            raise FieldkitError(
                ErrorCode.RECORD_WRONG_TYPE,
                id=record.id,
                actual=record_type_name(record.type),
                expected=record_type_name(expected),
            )
        return record

    def _optional(self, s: Session, record_id: str, expected: str) -> RecordView | None:
        try:
            record = self._store.get(s, record_id, include_deleted=False)
        except FieldkitError:
            return None
        return _view(record) if record.type == expected else None

    def _linked(self, s: Session, record_id: str) -> Iterable[tuple[str, str]]:
        """(other id, other record type) for every live link of ``record_id``."""
        for link in self._links(s, record_id):
            if link.from_id == record_id:
                other, other_type = link.to_id, link.kind.split("_", 1)[-1]
            else:
                other, other_type = link.from_id, link.kind.split("_", 1)[0]
            yield other, other_type

    def _links(self, s: Session, record_id: str) -> Sequence[LinkView]:
        return cast("Sequence[LinkView]", self._store.links(s, record_id))

    def _load_many(
        self, s: Session, ids: Iterable[str], expected: str, cancel: CancelToken | None
    ) -> list[RecordView]:
        out: list[RecordView] = []
        for index, record_id in enumerate(ids):
            if index % 50 == 0:
                check_cancel(cancel)
            found = self._optional(s, record_id, expected)
            if found is not None:
                out.append(found)
        return out

    def _evidence(self, ids: Iterable[str], cancel: CancelToken | None) -> list[EvidenceView]:
        wanted = list(ids)
        if not wanted:
            return []
        from fieldkit.services.evidence import EvidenceService

        service = EvidenceService(self._vault)
        out: list[EvidenceView] = []
        for index, item_id in enumerate(wanted):
            if index % 50 == 0:
                check_cancel(cancel)
            try:
                item = service.get(item_id)
            except FieldkitError as exc:
                if exc.code == ErrorCode.EVIDENCE_NOT_FOUND:
                    continue
                raise
            out.append(EvidenceView.from_item(item, service.custody_events(item_id)))
        out.sort(key=lambda e: (e.collected_at, e.original_name, e.id))
        return out

    # --- writing ------------------------------------------------------------------------------

    def _translator(self, lang: str) -> Any:
        if lang not in SUPPORTED_LANGUAGES:
            raise FieldkitError(
                ErrorCode.INVALID_ARGUMENT,
                detail=_("language '{lang}' (choose one of: {choices})").format(
                    lang=lang[:20], choices=", ".join(SUPPORTED_LANGUAGES)
                ),
            )
        return get_translator(lang)

    def _meta(
        self,
        translator: Any,
        title: str,
        *,
        include_names: bool,
        prepared_by: str,
        confidentiality: str = "confidential",
        audience: Audience = Audience.ORGANISATION,
    ) -> ReportMeta:
        return ReportMeta(
            translator=translator,
            generated_at=datetime.now(UTC),
            device_id=self._vault.device_id,
            device_fingerprint=self._vault.device_key_fingerprint,
            device_public_key=self._vault.device_public_key,
            document_title=title,
            prepared_by=prepared_by,
            include_names=include_names,
            confidentiality=confidentiality,
            audience=audience,
        )

    @staticmethod
    def _checked_target(out_path: Path | str, overwrite: bool) -> Path:
        target = Path(out_path).expanduser()
        if target.suffix.lower() != ".pdf":
            raise FieldkitError(
                ErrorCode.INVALID_ARGUMENT,
                detail=_("{name}: the file name must end in .pdf").format(name=target.name),
            )
        folder = target.parent if str(target.parent) else Path(".")
        if not folder.is_dir():
            raise FieldkitError(ErrorCode.FOLDER_NOT_FOUND, path=str(folder))
        if target.is_dir():
            raise FieldkitError(
                ErrorCode.FILE_NOT_WRITABLE, path=str(target), reason=os_reason(errno.EISDIR)
            )
        signature = _signature_path(target)
        if not overwrite:
            for path in (target, signature):
                if path.exists() or path.is_symlink():
                    raise FieldkitError(ErrorCode.FILE_EXISTS, path=str(path))
        return target

    def _finish(
        self,
        pdf: bytes,
        pages: int,
        target: Path,
        kind: str,
        record_id: str,
        cancel: CancelToken | None,
    ) -> ReportResult:
        check_cancel(cancel)
        digest = hashlib.sha256(pdf).hexdigest()
        comment = (
            f"fieldkit {kind} record:{record_id} device:{self._vault.device_id} "
            f"sha256:{digest} generated:{datetime.now(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}"
        )
        signature = sign_detached(pdf, self._vault.device_signing_key(), comment)
        signature_path = _signature_path(target)
        # The signature goes last: a PDF without a matching signature is never left behind as
        # if it were signed, and a stale signature from an earlier run is replaced with it.
        _write_atomic(target, pdf)
        try:
            _write_atomic(signature_path, signature)
        except BaseException:
            with contextlib.suppress(OSError):
                target.unlink()
            raise
        return ReportResult(target, signature_path, pages, digest, len(pdf))


def _known(data: CaseFileData) -> set[str]:
    """Ids still part of the case file (an item no longer linked is not "withheld")."""
    return {
        data.case.id,
        *(p.id for p in data.persons),
        *(i.id for i in data.interviews),
        *(e.id for e in data.evidence),
    }


def check_not_blocked(data: VisitReportData, policy: DisclosurePolicy) -> None:
    """Refuse a report for an audience that a linked interview's person declined."""
    from fieldkit.export.reports.people import record_code

    people = People(data.persons, data.interviews)
    for interview in data.interviews:
        reason = policy.blocking(people.interviewee(interview))
        if reason is not None:
            raise FieldkitError(
                ErrorCode.AUDIENCE_BLOCKED,
                audience=TranslatableText(AUDIENCE_LABELS[policy.audience]),
                interview=f"{record_code(interview)} ({_short(interview.id)})",
                reason=reason.as_param(),
            )


def _signature_path(target: Path) -> Path:
    return target.with_name(target.name + SIGNATURE_SUFFIX)


def _write_atomic(path: Path, data: bytes) -> None:
    """Temporary name beside the target → fsync → rename → fsync the folder (fsutil)."""
    try:
        atomic_write_bytes(path, data)
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise FieldkitError(ErrorCode.DISK_FULL, path=str(path.parent)) from exc
        raise FieldkitError(
            ErrorCode.FILE_NOT_WRITABLE, path=str(path), reason=os_reason(exc)
        ) from exc


def _report(progress: ProgressFn | None, done: int, total: int, stage: str) -> None:
    if progress is not None:
        progress(done, total, stage)


def _short(record_id: str) -> str:
    return record_id.split("-")[0]


_view = record_view
