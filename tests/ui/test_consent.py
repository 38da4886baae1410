"""Consent per scope with an append-only withdrawal log."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt

from fieldkit import i18n
from fieldkit.domain.forms import load_template
from fieldkit.domain.validation import issues_for
from fieldkit.ui.forms.consent import ConsentField
from fieldkit.ui.forms.fields import FormContext


@pytest.fixture
def consent(qtbot: Any) -> ConsentField:
    fdef = load_template("interview").field("consent")
    widget = ConsentField(fdef, FormContext())
    qtbot.addWidget(widget)
    widget.resize(900, 800)
    widget.show()
    return widget


def _decide(consent: ConsentField, scope: str, status: str) -> None:
    combo = consent.rows[scope].status
    combo.setCurrentIndex(combo.findData(status))


def _consent_issues(value: Any) -> list[str]:
    return [
        f"{i.field}: {i.reason}"
        for i in issues_for("interview", {"consent": value})
        if i.field == "consent" or i.field.startswith("consent.")
    ]


def test_checklist_per_scope(consent: ConsentField) -> None:
    assert consent.value() is None
    _decide(consent, "interview", "granted")
    _decide(consent, "audio_recording", "declined")
    _decide(consent, "photographs", "conditional")
    row = consent.rows["photographs"]
    assert row.conditions.isVisibleTo(consent)
    assert not consent.rows["interview"].conditions.isVisibleTo(consent)
    row.conditions.setText("face blurred")
    row.date.set_value({"value": "2024-03-05", "precision": "exact"})
    value = consent.value()
    assert value == {
        "scopes": [
            {"scope": "interview", "status": "granted"},
            {"scope": "audio_recording", "status": "declined"},
            {
                "scope": "photographs",
                "status": "conditional",
                "conditions": "face blurred",
                "date": {"value": "2024-03-05", "precision": "exact"},
            },
        ]
    }
    assert _consent_issues(value) == []


def test_withdrawal_appends_to_the_log(consent: ConsentField, qtbot: Any) -> None:
    _decide(consent, "interview", "granted")
    _decide(consent, "share_prosecution", "granted")
    qtbot.mouseClick(consent.withdraw_button, Qt.MouseButton.LeftButton)
    assert consent.panel.isVisibleTo(consent)
    # Only scopes with a decision can be withdrawn.
    assert [consent.w_scope.itemData(i) for i in range(consent.w_scope.count())] == [
        "interview",
        "share_prosecution",
    ]
    consent.w_scope.setCurrentIndex(1)
    qtbot.keyClicks(consent.w_date.edit, "2024-04-02")
    qtbot.keyClicks(consent.w_how, "phone call to the monitor")
    qtbot.mouseClick(consent.w_add, Qt.MouseButton.LeftButton)
    assert not consent.panel.isVisibleTo(consent)
    value = consent.value()
    assert value["withdrawals"] == [
        {
            "date": {"value": "2024-04-02", "precision": "exact"},
            "scope": "share_prosecution",
            "how_received": "phone call to the monitor",
        }
    ]
    # The decision itself is untouched; the log changes what it means now.
    assert {"scope": "share_prosecution", "status": "granted"} in value["scopes"]
    assert consent.effective_status("share_prosecution") == "declined"
    assert consent.rows["share_prosecution"].now.text() == "withdrawn"
    assert consent.rows["interview"].now.text() == ""
    assert consent.log.rowCount() == 1
    assert consent.log.item(0, 1).text().startswith("Sharing with national prosecutors")
    assert _consent_issues(value) == []


def test_log_entries_are_never_removed(consent: ConsentField) -> None:
    loaded = {
        "scopes": [{"scope": "photographs", "status": "granted"}],
        "withdrawals": [
            {
                "date": {"value": "2024-01-10", "precision": "exact"},
                "scope": "photographs",
                "new_status": "conditional",
                "actions_taken": "faces blurred in copies",
            }
        ],
    }
    consent.set_value(loaded)
    assert consent.value() == loaded
    assert consent.effective_status("photographs") == "conditional"
    consent.append_withdrawal("photographs", {"value": "2024-02-01", "precision": "exact"})
    value = consent.value()
    assert value["withdrawals"][0] == loaded["withdrawals"][0]
    assert len(value["withdrawals"]) == 2
    assert consent.effective_status("photographs") == "declined"
    # Changing the decision afterwards does not touch the log either.
    _decide(consent, "photographs", "declined")
    assert len(consent.value()["withdrawals"]) == 2
    # The table is read-only.
    item = consent.log.item(0, 0)
    assert not item.flags() & Qt.ItemFlag.ItemIsEditable


def test_withdrawal_needs_a_decision_scope_and_date(consent: ConsentField, qtbot: Any) -> None:
    qtbot.mouseClick(consent.withdraw_button, Qt.MouseButton.LeftButton)
    assert not consent.panel.isVisibleTo(consent)
    assert "Record a consent decision first" in consent.log_error.text()
    _decide(consent, "interview", "granted")
    qtbot.mouseClick(consent.withdraw_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(consent.w_add, Qt.MouseButton.LeftButton)  # no date
    assert consent.w_error.text() == "Choose the scope and enter the date."
    assert "withdrawals" not in (consent.value() or {})


def test_conditional_without_conditions_is_reported_on_its_row(consent: ConsentField) -> None:
    _decide(consent, "interview", "granted")
    _decide(consent, "video_recording", "conditional")
    issues = [
        i
        for i in issues_for("interview", {"consent": consent.value()})
        if i.field == "consent" or i.field.startswith("consent.")
    ]
    assert [i.field for i in issues] == ["consent.scopes[1].conditions"]
    assert consent.route_issue(None, "scopes[1].conditions", issues[0].reason)
    assert consent.rows["video_recording"].error.text() == ("Conditions: This field is required.")
    assert consent.rows["interview"].error.text() == ""


@pytest.mark.parametrize(("language", "declined"), [("uk", "Відмовлено"), ("ru", "Отказано")])
def test_declined_consent_reads_as_a_refusal(qtbot: Any, language: str, declined: str) -> None:
    i18n.set_language(language)
    widget = ConsentField(load_template("interview").field("consent"), FormContext())
    qtbot.addWidget(widget)
    combo = next(iter(widget.rows.values())).status
    labels = {combo.itemData(i): combo.itemText(i) for i in range(combo.count())}
    assert labels["declined"] == declined
    logged = {
        widget.w_status.itemData(i): widget.w_status.itemText(i)
        for i in range(widget.w_status.count())
    }
    assert logged["declined"] == declined
    assert not {"Не надано", "Не дано"} & set(labels.values())
