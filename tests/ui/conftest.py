"""Qt widget tests: offscreen; the dialog seam is strict (an unexpected dialog fails)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fieldkit import i18n
from fieldkit.ui import dialogs


@pytest.fixture(autouse=True)
def strict_dialogs() -> Iterator[None]:
    """Every test starts with no queued answers; an unexpected dialog raises instead of blocking."""
    dialogs.reset()
    dialogs.set_strict(True)
    yield
    dialogs.close_all()
    dialogs.reset()
    dialogs.set_strict(False)


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """Tests start in English and whatever language a test switches to is undone."""
    i18n.set_language("en")
    yield
    i18n.set_language("en")
