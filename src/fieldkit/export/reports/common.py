"""What every report shares: the page template, safe text, small table builders.

Each page carries a confidentiality banner at the top and, at the bottom, "page N of M", the time
the report was generated and the minisign key ID of the device key that signs it. Entered text is
always escaped for reportlab's paragraph mini-markup, so ``<b>`` or ``&`` typed by a monitor is
printed as typed and never interpreted.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    LayoutError,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
)

from fieldkit.domain.disclosure import Audience, DisclosurePolicy
from fieldkit.domain.errors import ErrorCode, FieldkitError, TranslatableText
from fieldkit.domain.progress import CancelToken, ProgressFn, check_cancel
from fieldkit.export.reports.fonts import MONO, SANS, SANS_BOLD
from fieldkit.export.reports.styles import (
    BANNER,
    MUTED,
    RULE,
    Styles,
    field_table_style,
    grid_style,
    make_styles,
)
from fieldkit.i18n import N_, Translator

PAGE_WIDTH: float = float(A4[0])
PAGE_HEIGHT: float = float(A4[1])
MARGIN_X: float = 18 * float(mm)
MARGIN_TOP: float = 20 * float(mm)
MARGIN_BOTTOM: float = 20 * float(mm)
CONTENT_WIDTH: float = PAGE_WIDTH - 2 * MARGIN_X

# Characters that must never reach a PDF text run: C0/C1 controls other than tab and newline, and
# bidirectional overrides that could make printed text read differently from what was stored.
_UNSAFE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff\ufff9-\ufffb]"
)

CONFIDENTIALITY_BANNERS = {
    "confidential": N_(
        "CONFIDENTIAL: contains sensitive personal data. "
        "Do not copy or pass on without authorisation."
    ),
    "internal": N_("INTERNAL: for the organisation and its legal advisers only."),
    # The visit form's "report confidentiality" levels (vocabulary report_confidentiality).
    "to_facility": N_("RESTRICTED: for the administration of the facility visited."),
    "to_ministry": N_(
        "RESTRICTED: for the facility's administration and its supervising ministry or agency."
    ),
    "public": N_("PUBLIC: persons are not identified, not even by code."),
    # Other audiences (fieldkit.domain.disclosure.Audience).
    "counsel": N_("CONFIDENTIAL: for the lawyer it is addressed to. Do not pass on."),
    "prosecution": N_("RESTRICTED: for the prosecuting authority it is addressed to."),
    "international": N_("RESTRICTED: for the international body it is addressed to."),
    "partner": N_("RESTRICTED: for the partner organisation it is addressed to. Do not pass on."),
}

# The banner of an output addressed to an audience (the organisation's own: as the record says).
AUDIENCE_BANNERS: dict[Audience, str] = {
    Audience.COUNSEL: "counsel",
    Audience.FACILITY: "to_facility",
    Audience.AUTHORITY: "to_ministry",
    Audience.PROSECUTION: "prosecution",
    Audience.INTERNATIONAL: "international",
    Audience.PARTNER: "partner",
    Audience.PUBLIC: "public",
}


@dataclass(frozen=True)
class ReportMeta:
    """Facts printed on every page; nothing here may identify a person."""

    translator: Translator
    generated_at: datetime
    device_id: str
    device_fingerprint: str
    document_title: str
    prepared_by: str = ""
    confidentiality: str = "confidential"
    include_names: bool = False
    device_public_key: bytes = b""
    audience: Audience = Audience.ORGANISATION

    @property
    def lang(self) -> str:
        return self.translator.language

    @property
    def policy(self) -> DisclosurePolicy:
        """The disclosure policy every part of this report asks."""
        return DisclosurePolicy(self.audience, names=self.include_names)


@dataclass
class BuildControl:
    """Progress and cancellation threaded through a build."""

    progress: ProgressFn | None = None
    cancel: CancelToken | None = None
    stage: str = "rendering"
    _total: int = 0
    _done: int = field(default=0, init=False)
    _reported: int = field(default=-1, init=False)

    def start(self, total: int) -> None:
        self._total = total
        self._done = 0
        self._reported = -1
        self.tick(0)

    def tick(self, amount: int = 1) -> None:
        """Check for cancellation; report at most about 200 times per build."""
        check_cancel(self.cancel)
        self._done += amount
        if self.progress is None:
            return
        done = min(self._done, self._total)
        step = max(1, self._total // 200)
        if amount == 0 or done == self._total or done - self._reported >= step:
            self._reported = done
            self.progress(done, self._total, self.stage)


# --- text ---------------------------------------------------------------------------------------


def clean(text: object) -> str:
    """Entered text made safe to print: NFC, no control or bidi-override characters."""
    value = "" if text is None else str(text)
    return _UNSAFE.sub("\ufffd", unicodedata.normalize("NFC", value))


def markup(text: object) -> str:
    """Entered text as reportlab paragraph markup: escaped, line breaks kept."""
    escaped = escape(clean(text))
    escaped = escaped.replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ")
    return escaped.replace("\n", "<br/>")


# Entered text is bounded on intake and import; these bounds keep a report printable whatever a
# profile holds (older data, a damaged row): a table cell never grows past one page, and a long
# text is cut into paragraphs a page can break between. What is left out is marked "[…]".
MAX_CELL_CHARS = 3000
MAX_TEXT_CHARS = 60_000
PARAGRAPH_CHARS = 2000
OMITTED = " […]"


def clipped(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + OMITTED


def para(text: object, style: Any) -> Paragraph:
    """A paragraph of entered (untrusted) text (a table cell: at most MAX_CELL_CHARS)."""
    return Paragraph(markup(clipped(clean(text), MAX_CELL_CHARS)), style)


def long_text(text: object, style: Any) -> list[Flowable]:
    """Long entered text split at blank lines, and long blocks at spaces near every
    PARAGRAPH_CHARS, so a page can break between paragraphs; at most MAX_TEXT_CHARS."""
    value = clipped(clean(text), MAX_TEXT_CHARS).replace("\r\n", "\n").replace("\r", "\n")
    blocks = [b for b in re.split(r"\n\s*\n", value) if b.strip()]
    out: list[Flowable] = []
    for block in blocks:
        while len(block) > PARAGRAPH_CHARS:
            cut = block.rfind(" ", PARAGRAPH_CHARS // 2, PARAGRAPH_CHARS)
            cut = cut if cut > 0 else PARAGRAPH_CHARS
            out.append(Paragraph(markup(block[:cut]), style))
            block = block[cut:].lstrip(" ")
        if block.strip():
            out.append(Paragraph(markup(block), style))
    return out


def heading(text: str, style: Any, key: str | None = None, level: int = 0) -> Paragraph:
    """A translated heading; with ``key``, also an entry in the PDF outline (bookmarks)."""
    shown = clipped(clean(text), MAX_CELL_CHARS)
    return _Heading(markup(shown), style, key, level, shown)


class _Heading(Paragraph):  # type: ignore[misc]
    def __init__(self, text: str, style: Any, key: str | None, level: int, plain: str) -> None:
        super().__init__(text, style)
        self._outline_key = key
        self._outline_level = level
        self._outline_text = plain

    def draw(self) -> None:
        super().draw()
        if self._outline_key:
            # Pages are written only at the end (for "page N of M"), so the outline entry is
            # queued on the page and replayed when that page is really emitted.
            self.canv.queue_outline(self._outline_key, self._outline_text, self._outline_level)


def fmt_size(size: int | None, translator: Translator) -> str:
    """A byte count for people, with the exact count beside it for checking."""
    if size is None:
        return ""
    _ = translator.gettext
    exact = translator.ngettext("{count} byte", "{count} bytes", size).format(
        count=f"{size:,}".replace(",", "\u202f")
    )
    if size < 1024:
        return exact
    value = float(size)
    units = (_("KiB"), _("MiB"), _("GiB"), _("TiB"))
    index = -1
    while index < len(units) - 1 and (index < 0 or value >= 1024):
        value /= 1024
        index += 1
    number = f"{value:.1f}"
    if translator.language in DOTTED_DATE_LANGUAGES:
        number = number.replace(".", ",")  # the decimal comma of uk and ru
    return f"{number} {units[index]} ({exact})"


# Ukrainian and Russian official papers write dates as DD.MM.YYYY and times in local time.
DOTTED_DATE_LANGUAGES = frozenset({"uk", "ru"})


def fmt_date(text: str, lang: str = "en") -> str:
    """An ISO date (``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY``) as the language writes it:
    ``19.11.2026`` and ``11.2026`` in uk/ru; ISO in English. Anything else as given."""
    if lang not in DOTTED_DATE_LANGUAGES:
        return text
    parts = text.split("-")
    if 1 < len(parts) <= 3 and all(p.isdigit() for p in parts) and len(parts[0]) == 4:
        return ".".join(reversed(parts))
    return text


def utc_offset(moment: datetime) -> str:
    """``UTC+02:00`` for a moment with a time zone."""
    offset = moment.strftime("%z")
    return f"UTC{offset[:3]}:{offset[3:]}" if offset else "UTC"


def fmt_timestamp(value: object, lang: str = "en") -> str:
    """An ISO timestamp: ``YYYY-MM-DD HH:MM UTC`` (English and the signature block), or in uk/ru
    ``DD.MM.YYYY HH:MM`` in this computer's local time with its offset; anything else as given."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        moment = value
    else:
        text = str(value)
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return clean(text)
    if lang in DOTTED_DATE_LANGUAGES:
        local = moment.astimezone() if moment.tzinfo is not None else moment
        shown = local.strftime("%d.%m.%Y %H:%M")
        return f"{shown} ({utc_offset(local)})" if local.tzinfo is not None else shown
    if moment.tzinfo is None:
        return moment.strftime("%Y-%m-%d %H:%M")
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


# --- tables -------------------------------------------------------------------------------------


def fields_table(
    rows: Iterable[tuple[str, Flowable | str]],
    styles: Styles,
    label_width: float = 0.32,
    width: float = CONTENT_WIDTH,
) -> Table | Spacer:
    """Label/value rows; labels are translated headings, values entered text or flowables."""
    data: list[list[Flowable]] = []
    for label, value in rows:
        cell = value if isinstance(value, Flowable) else para(value, styles.cell)
        data.append([Paragraph(markup(label), styles.cell_bold), cell])
    if not data:
        return Spacer(1, 0)
    table = Table(data, colWidths=[width * label_width, width * (1 - label_width)], splitByRow=True)
    table.setStyle(field_table_style())
    return table


CELL_PADDING = 3.0  # left and right padding of grid_table cells (styles.grid_style)
MIN_HEADER_SIZE = 6.0


def header_cell(text: str, style: ParagraphStyle, column_width: float) -> Paragraph:
    """A column heading that wraps at spaces only, never inside a word ("Occupant / s").

    When the longest word of the heading is wider than the column, the heading's type is made
    smaller (down to 6 pt) so that the word fits; only a word too long even then may be split.
    """
    shown = clean(text)
    inner = column_width - 2 * CELL_PADDING
    widest = max(
        (stringWidth(word, style.fontName, style.fontSize) for word in shown.split()), default=0.0
    )
    size = float(style.fontSize)
    if widest > inner > 0:
        size = max(MIN_HEADER_SIZE, size * inner / widest * 0.98)
    fits = widest * size / float(style.fontSize) <= inner
    head_style = ParagraphStyle(
        f"{style.name}-head-{size:.2f}",
        parent=style,
        fontSize=size,
        leading=style.leading * size / float(style.fontSize),
        splitLongWords=0 if fits else 1,
    )
    return Paragraph(markup(text), head_style)


def grid_table(
    header: Sequence[str],
    rows: Sequence[Sequence[Flowable | str]],
    styles: Styles,
    widths: Sequence[float],
    width: float = CONTENT_WIDTH,
    mono_columns: Sequence[int] = (),
) -> Table:
    """A ruled table; ``widths`` are fractions of ``width``; the header repeats across pages."""
    head = [
        header_cell(h, styles.cell_bold, width * w) for h, w in zip(header, widths, strict=True)
    ]
    body: list[list[Flowable]] = []
    for row in rows:
        cells: list[Flowable] = []
        for index, value in enumerate(row):
            if isinstance(value, Flowable):
                cells.append(value)
            else:
                style = styles.cell_mono if index in mono_columns else styles.cell
                cells.append(para(value, style))
        body.append(cells)
    table = Table(
        [head, *body],
        colWidths=[width * w for w in widths],
        repeatRows=1,
        splitByRow=True,
        splitInRow=1,
    )
    table.setStyle(grid_style())
    return table


# --- the page -----------------------------------------------------------------------------------


def _numbered_canvas_class(meta: ReportMeta) -> type[Canvas]:
    """A canvas that holds pages back until the end, so each can say "page N of M"."""
    _ = meta.translator.gettext
    banner = clean(_(CONFIDENTIALITY_BANNERS.get(meta.confidentiality, meta.confidentiality)))
    generated = _("Generated {time}").format(
        time=fmt_timestamp(meta.generated_at, meta.translator.language)
    )
    device = _("Device key ID (minisign) {key_id}").format(key_id=meta.device_fingerprint)
    title = clean(meta.document_title)

    class NumberedCanvas(Canvas):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._saved_pages: list[dict[str, Any]] = []
            self._page_outline: list[tuple[str, str, int]] = []

        def queue_outline(self, key: str, text: str, level: int) -> None:
            self._page_outline.append((key, text, level))

        def showPage(self) -> None:
            self._saved_pages.append(dict(self.__dict__))
            self._page_outline = []
            self._startPage()

        def save(self) -> None:
            total = len(self._saved_pages)
            for state in self._saved_pages:
                self.__dict__.update(state)
                self._draw_frame(total)
                for key, text, level in self._page_outline:
                    self.bookmarkPage(key)
                    self.addOutlineEntry(text, key, level=level, closed=level > 0)
                super().showPage()
            self._saved_pages = []
            super().save()

        def _draw_frame(self, total: int) -> None:
            page = self._pageNumber
            self.saveState()
            # Header: confidentiality banner and the document title.
            self.setFillColor(BANNER)
            size = _size_to_fit(banner, SANS_BOLD, 7.5, 5.5)
            self.setFont(SANS_BOLD, size)
            self.drawCentredString(PAGE_WIDTH / 2, PAGE_HEIGHT - 10 * mm, _fit(banner, size, True))
            self.setFillColor(MUTED)
            self.setFont(SANS, 7.5)
            self.drawString(MARGIN_X, PAGE_HEIGHT - 14.5 * mm, _fit(title, 7.5, False, 0.7))
            self.setStrokeColor(RULE)
            self.setLineWidth(0.4)
            self.line(MARGIN_X, PAGE_HEIGHT - 16 * mm, PAGE_WIDTH - MARGIN_X, PAGE_HEIGHT - 16 * mm)
            # Footer: generation time, device key, page N of M.
            self.line(MARGIN_X, 14 * mm, PAGE_WIDTH - MARGIN_X, 14 * mm)
            self.setFont(SANS, 7)
            self.drawString(MARGIN_X, 10 * mm, generated)
            self.setFont(MONO, 6.8)
            self.drawString(MARGIN_X, 6.5 * mm, device)
            self.setFont(SANS, 7.5)
            self.drawRightString(
                PAGE_WIDTH - MARGIN_X,
                10 * mm,
                _("Page {page} of {total}").format(page=page, total=total),
            )
            self.restoreState()

    return NumberedCanvas


def _size_to_fit(text: str, font: str, size: float, smallest: float) -> float:
    """The largest font size up to ``size`` at which ``text`` fits the text width."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    width = float(stringWidth(text, font, size))
    if width <= CONTENT_WIDTH:
        return size
    return max(smallest, size * CONTENT_WIDTH / width)


def _fit(text: str, size: float, bold: bool, share: float = 1.0) -> str:
    """Shorten a header line with an ellipsis so it never runs off the page."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    font = SANS_BOLD if bold else SANS
    limit = CONTENT_WIDTH * share
    if stringWidth(text, font, size) <= limit:
        return text
    while text and stringWidth(text + "…", font, size) > limit:
        text = text[:-1]
    return text + "…"


class ReportDocument(BaseDocTemplate):  # type: ignore[misc]
    """A4 portrait with room for the banner and footer; reports progress per flowable."""

    def __init__(
        self, target: IO[bytes], meta: ReportMeta, control: BuildControl, compress: bool = True
    ) -> None:
        super().__init__(
            target,
            pagesize=A4,
            leftMargin=MARGIN_X,
            rightMargin=MARGIN_X,
            topMargin=MARGIN_TOP,
            bottomMargin=MARGIN_BOTTOM,
            title=clean(meta.document_title),
            author="fieldkit",
            subject="",
            creator="fieldkit",
            producer="fieldkit",
            keywords="",
            lang=meta.lang,
            pageCompression=1 if compress else 0,
            invariant=0,
            # The canvas's starting font; reportlab's default (Helvetica) would put an unembedded
            # font into every PDF even though no text uses it.
            initialFontName=SANS,
        )
        frame = Frame(
            MARGIN_X,
            MARGIN_BOTTOM,
            CONTENT_WIDTH,
            PAGE_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM,
            id="body",
            leftPadding=0,
            rightPadding=0,
            topPadding=0,
            bottomPadding=0,
        )
        self.addPageTemplates([PageTemplate(id="page", frames=[frame])])
        self._control = control

    def afterFlowable(self, flowable: Flowable) -> None:
        self._control.tick()


def build_pdf(
    target: IO[bytes],
    story: list[Flowable],
    meta: ReportMeta,
    control: BuildControl,
    compress: bool = True,
) -> int:
    """Lay the story out into ``target``; returns the number of pages."""
    document = ReportDocument(target, meta, control, compress=compress)
    control.start(len(story))
    try:
        document.build(story, canvasmaker=_numbered_canvas_class(meta))
    except LayoutError as exc:
        # Never the exception text: it quotes the flowable, i.e. record content.
        raise FieldkitError(
            ErrorCode.REPORT_FAILED,
            reason=TranslatableText(N_("an entry is too large to lay out on a page")),
        ) from exc
    return int(document.page)


def styles() -> Styles:
    return make_styles()


def checking_section(meta: ReportMeta, s: Styles) -> list[Flowable]:
    """How to check the PDF against its .minisig, with the device public key to do it."""
    from fieldkit.export.reports.signature import public_key_text

    _ = meta.translator.gettext
    out: list[Flowable] = [
        heading(_("Checking this file"), s.h1, "checking"),
        para(
            _(
                "This PDF is accompanied by a signature file with the same name and the "
                "extension .minisig, made with the key of the device that generated it. To "
                "check that the PDF is unchanged, save the device public key below as "
                "device.pub and run: minisign -Vm FILE.pdf -p device.pub"
            ),
            s.body,
        ),
        para(
            _(
                "Compare the device key ID (minisign) with the one your organisation holds for "
                "this device; a key printed inside the file it signs proves nothing on its own."
            ),
            s.note,
        ),
    ]
    if meta.device_public_key:
        out.append(Paragraph(markup(public_key_text(meta.device_public_key)), s.mono))
    out.append(
        fields_table(
            [
                (_("Device"), Paragraph(markup(meta.device_id), s.cell_mono)),
                (
                    _("Device key ID (minisign)"),
                    Paragraph(markup(meta.device_fingerprint), s.cell_mono),
                ),
                (_("Generated"), fmt_timestamp(meta.generated_at)),
            ],
            s,
        )
    )
    return out


def join_nonempty(parts: Iterable[object], sep: str = " · ") -> str:
    return sep.join(clean(p) for p in parts if p not in (None, "", [], {}))


__all__ = [
    "CONTENT_WIDTH",
    "BuildControl",
    "ReportMeta",
    "build_pdf",
    "clean",
    "fields_table",
    "fmt_size",
    "fmt_timestamp",
    "grid_table",
    "heading",
    "join_nonempty",
    "long_text",
    "markup",
    "para",
    "styles",
]
