"""F-8 in the visit form: the CPT verdict names the check that failed and the area needed, and a
floor area left empty is worked out from length × width (shown as such, and used), in the three
languages with their units."""

from __future__ import annotations

from typing import Any

import pytest

from fieldkit import i18n
from fieldkit.domain import living_space
from fieldkit.ui.forms.renderer import FormEditor
from tests.ui.forms_support import ref_options

AREAS = [
    {"label": "215", "area_type": "cell", "floor_area_m2": 20, "occupants": 3, "height_m": 2.4},
    {"label": "216", "area_type": "cell", "length_m": 4.2, "width_m": 3.1, "occupants": 2},
    {"label": "217", "area_type": "cell", "floor_area_m2": 11.5, "occupants": 8},
]

EXPECTED = {
    "en": (
        "Below the CPT minimum: less than 2.5 m from floor to ceiling",
        "6.51 m² (floor area from length × width: 4.2 m × 3.1 m = 13.02 m²)",
        "8 persons need at least 32 m²",
    ),
    "uk": (
        "Нижче мінімуму ЄКПТ: менше 2,5 м від підлоги до стелі",
        "6,51 м² (площа з довжини × ширини: 4,2 м × 3,1 м = 13,02 м²)",
        "32 м²",
    ),
    "ru": (
        "Ниже минимума ЕКПП: менее 2,5 м от пола до потолка",
        "6,51 м² (площадь по длине × ширине: 4,2 м × 3,1 м = 13,02 м²)",
        "32 м²",
    ),
}


@pytest.mark.parametrize("language", ["en", "uk", "ru"])
def test_cpt_verdict_says_why_and_the_area_from_the_walls_is_shown(
    language: str, qtbot: Any
) -> None:
    i18n.set_language(language)
    editor = FormEditor(None, "visit", ref_provider=ref_options, initial={"areas": AREAS})
    qtbot.addWidget(editor)
    ceiling, derived, needed = EXPECTED[language]
    assert editor.editor("areas[0].cpt_minimum").display.text() == ceiling
    assert editor.editor("areas[1].area_per_person").display.text() == derived
    assert editor.editor("areas[1].cpt_minimum").flagged is False
    crowded = editor.editor("areas[2].cpt_minimum")
    assert crowded.flagged
    assert needed in crowded.display.text()
    # An entered floor area is shown as entered, without the note.
    assert "×" not in editor.editor("areas[2].area_per_person").display.text()
    # Typing the floor area replaces the worked-out one at once.
    editor.editor("areas[1].floor_area_m2").set_value(10)
    editor.refresh()
    assert editor.editor("areas[1].area_per_person").display.text().startswith("5")
    assert "×" not in editor.editor("areas[1].area_per_person").display.text()


def test_derived_area_only_when_the_floor_area_is_missing() -> None:
    assert living_space.derived_area(None, 4.2, 3.1) == (4.2, 3.1, 13.02)
    assert living_space.derived_area(12, 4.2, 3.1) is None
    assert living_space.derived_area(None, 4.2, None) is None
    assert living_space.derived_area(None, 0, 3.1) is None
