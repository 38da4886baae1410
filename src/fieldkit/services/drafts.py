"""Drafts of open editors: saved continuously inside the encrypted profile, restored after a lock,
a crash or a killed program, cleared when the record is saved or the person discards them.

A draft is what one editor window held: the form, the record it edits (if any) and the revision
it started from, the case it was opened for, and the entries themselves. Drafts stay on this
laptop: bundles and packages read records, never this table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fieldkit.services.roles import hub_lawyer
from fieldkit.storage.drafts import delete_all_drafts, delete_draft, draft_rows, put_draft
from fieldkit.storage.vault import Vault


@dataclass(frozen=True)
class Draft:
    key: str
    form_id: str
    data: dict[str, Any]
    record_id: str | None = None
    base_revision: int | None = None
    case_id: str | None = None
    # Where the editor was opened from (e.g. the case a new person is linked to once saved).
    context: dict[str, Any] = field(default_factory=dict)
    saved_at: str = ""


class DraftService:
    def __init__(self, vault: Vault) -> None:
        self._vault = vault

    def save(self, draft: Draft) -> Draft:
        """Keep ``draft`` (replacing an earlier one with the same key); returns it as stored."""
        saved_at = datetime.now(UTC).isoformat(timespec="milliseconds")
        with self._vault.session() as s:
            put_draft(
                s,
                key=draft.key,
                form_id=draft.form_id,
                record_id=draft.record_id,
                base_revision=draft.base_revision,
                case_id=draft.case_id,
                data=json.dumps(draft.data, ensure_ascii=False, sort_keys=True),
                context=json.dumps(draft.context, ensure_ascii=False, sort_keys=True),
                saved_at=saved_at,
            )
        return Draft(
            key=draft.key,
            form_id=draft.form_id,
            data=draft.data,
            record_id=draft.record_id,
            base_revision=draft.base_revision,
            case_id=draft.case_id,
            context=draft.context,
            saved_at=saved_at,
        )

    def list(self) -> list[Draft]:
        """Every kept draft, oldest first."""
        if hub_lawyer(self._vault):
            return []  # a lawyer on a hub edits nothing, and may not read the drafts
        with self._vault.session() as s:
            rows = draft_rows(s)
            return [
                Draft(
                    key=r.key,
                    form_id=r.form_id,
                    data=_object(r.data),
                    record_id=r.record_id,
                    base_revision=r.base_revision,
                    case_id=r.case_id,
                    context=_object(r.context),
                    saved_at=r.saved_at,
                )
                for r in rows
            ]

    def discard(self, key: str) -> bool:
        """Forget the draft ``key``; False when there was none."""
        with self._vault.session() as s:
            return delete_draft(s, key)

    def discard_all(self) -> int:
        with self._vault.session() as s:
            return delete_all_drafts(s)


def _object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
