"""What an earlier output disclosed and this one withholds (a consent withdrawn since).

The service keeps a ledger of what each case file disclosed (inside the encrypted profile) and
hands the earlier entries for the same case and audience to the builder as
:class:`EarlierOutput`. Anything disclosed then and withheld now is listed on the cover, with the
reason, because the earlier file is out of fieldkit's reach: its recipient must be told.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from reportlab.platypus import Flowable, Paragraph

from fieldkit.domain.disclosure import Decision
from fieldkit.export.reports.common import fmt_timestamp, grid_table, markup, para
from fieldkit.export.reports.data import EarlierOutput
from fieldkit.export.reports.styles import Styles
from fieldkit.i18n import Translator


@dataclass(frozen=True)
class Change:
    item_id: str
    label: str
    earlier: str  # when the earlier output that disclosed it was made
    decision: Decision


def changes_since(
    earlier: Sequence[EarlierOutput],
    decisions: Mapping[str, Decision],
    labels: Mapping[str, str],
) -> list[Change]:
    """Items an earlier output disclosed that this one withholds, latest earlier output first."""
    found: dict[str, Change] = {}
    for output in sorted(earlier, key=lambda e: e.made_at, reverse=True):
        for item_id in sorted(output.disclosed):
            decision = decisions.get(item_id)
            if decision is None or not decision.withheld or item_id in found:
                continue
            found[item_id] = Change(item_id, labels.get(item_id, ""), output.made_at, decision)
    return sorted(found.values(), key=lambda c: c.label)


def changes_block(changes: Sequence[Change], translator: Translator, s: Styles) -> list[Flowable]:
    if not changes:
        return []
    _ = translator.gettext
    rows: list[list[Flowable | str]] = [
        [
            change.label,
            fmt_timestamp(change.earlier, translator.language),
            Paragraph(markup(change.decision.reason.text(translator)), s.cell),
        ]
        for change in changes
    ]
    return [
        Paragraph(markup(_("Withheld since an earlier file")), s.h3),
        para(
            _(
                "An earlier file for the same audience disclosed what is listed below; this file "
                "withholds it, because a consent has changed since. fieldkit cannot recall a "
                "file already handed over: tell its recipient, and ask for the earlier copy to "
                "be destroyed."
            ),
            s.flag,
        ),
        grid_table(
            [_("Item"), _("Disclosed in the file of"), _("Now withheld because")],
            rows,
            s,
            [0.3, 0.25, 0.45],
        ),
    ]
