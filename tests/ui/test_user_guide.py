"""Help → User guide: F1 opens the guide offline, in the program's language, searchable."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QPixmap, QTextDocument
from PySide6.QtWidgets import QMenu
from pytestqt.qtbot import QtBot

from fieldkit import i18n, user_guide
from fieldkit.ui import dialogs
from fieldkit.ui.clipboard import ClipboardGuard
from fieldkit.ui.guide import IMAGE_MAX_WIDTH, UserGuideWindow
from fieldkit.ui.main_window import MainWindow
from fieldkit.ui.settings import AppSettings
from fieldkit.ui.tasks import TaskRunner

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _guide(qtbot: QtBot, language: str) -> UserGuideWindow:
    window = UserGuideWindow(language)
    qtbot.addWidget(window)
    window.show()
    return window


def _open_with_f1(qtbot: QtBot, vault: object) -> UserGuideWindow:
    main = MainWindow(vault, TaskRunner(), ClipboardGuard(), AppSettings())
    qtbot.addWidget(main)
    main.show()
    main.activateWindow()
    qtbot.waitUntil(main.isActiveWindow, timeout=10_000)
    help_menu = main.findChild(QMenu, "menuHelp")
    assert main.action_user_guide in help_menu.actions()
    assert main.action_user_guide.shortcut().toString() == "F1"
    qtbot.keyClick(main, Qt.Key.Key_F1)
    qtbot.waitUntil(lambda: isinstance(getattr(main, "guide_window", None), UserGuideWindow))
    guide: UserGuideWindow = main.guide_window
    assert guide.isVisible()
    assert guide in dialogs.open_dialogs()  # a lock closes it like every other window
    return guide


def test_f1_opens_the_english_guide(qtbot: QtBot, new_vault: object) -> None:
    guide = _open_with_f1(qtbot, new_vault)
    assert guide.guide is not None
    assert guide.guide.language == "en"
    assert guide.browser.toPlainText().startswith("fieldkit user guide")
    assert not guide.notice.isVisible()
    # F1 again raises the same window instead of opening a second one.
    main = guide.parent()
    main.action_user_guide.trigger()
    assert main.guide_window is guide


def test_the_guide_follows_the_chosen_language(qtbot: QtBot, new_vault: object) -> None:
    i18n.set_language("uk")
    guide = _open_with_f1(qtbot, new_vault)
    assert guide.windowTitle() == "Посібник користувача"
    assert guide.guide is not None
    assert guide.guide.path.name == "user-guide.uk.md"
    text = guide.browser.toPlainText()
    assert text.startswith("Посібник користувача fieldkit")
    assert "Створення профілю" in text
    assert not guide.notice.isVisible()
    first = guide.contents.topLevelItem(0).text(0)
    assert first.startswith("1. ")
    assert first == "1. Що fieldkit захищає, а що ні"


def test_a_language_without_its_guide_falls_back_to_english_and_says_so(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copy(DOCS / "user-guide.md", tmp_path / "user-guide.md")
    monkeypatch.setattr(user_guide, "docs_folder", lambda: tmp_path)
    i18n.set_language("ru")
    guide = _guide(qtbot, "ru")
    assert guide.guide is not None
    assert guide.guide.is_fallback
    assert guide.guide.path.name == "user-guide.md"
    assert guide.notice.isVisible()
    assert guide.notice.text() == (
        "Руководство пользователя ещё не переведено на русский язык; оно показано на английском."
    )
    assert guide.browser.toPlainText().startswith("fieldkit user guide")


def test_no_guide_installed_is_said_plainly(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(user_guide, "docs_folder", lambda: tmp_path)
    guide = _guide(qtbot, "en")
    assert guide.guide is None
    assert "missing from this installation" in guide.browser.toPlainText()


def test_search_finds_a_word_and_wraps_around(qtbot: QtBot) -> None:
    guide = _guide(qtbot, "en")
    guide.search_edit.setText("minisign")
    qtbot.keyClick(guide.search_edit, Qt.Key.Key_Return)
    cursor = guide.browser.textCursor()
    assert cursor.selectedText() == "minisign"
    first = cursor.position()
    positions = {first}
    for _ in range(200):  # every occurrence, then back to the first
        assert guide.find_next()
        if guide.browser.textCursor().position() == first:
            break
        positions.add(guide.browser.textCursor().position())
    assert guide.browser.textCursor().position() == first
    assert len(positions) > 3
    qtbot.keyClick(guide.search_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    assert guide.browser.textCursor().position() == max(positions)  # backwards wraps to the last
    guide.search_edit.setText("zzqx-no-such-word")
    assert not guide.find_next()
    assert guide.search_status.text() == "Not found"


def test_contents_and_internal_links_go_to_their_heading(qtbot: QtBot) -> None:
    guide = _guide(qtbot, "en")
    evidence = next(
        guide.contents.topLevelItem(i)
        for i in range(guide.contents.topLevelItemCount())
        if guide.contents.topLevelItem(i).text(0) == "8. Evidence files"
    )
    guide.contents.itemClicked.emit(evidence, 0)
    assert guide.browser.textCursor().block().text() == "8. Evidence files"
    assert guide.browser.verticalScrollBar().value() > 0
    guide.browser.anchorClicked.emit(QUrl("#16-command-summary"))
    assert guide.browser.textCursor().block().text() == "16. Command summary"


def test_network_links_are_never_followed(qtbot: QtBot) -> None:
    guide = _guide(qtbot, "en")
    before = guide.browser.toPlainText()
    guide.browser.anchorClicked.emit(QUrl("https://age-encryption.org"))
    assert guide.notice.isVisible()
    assert "https://age-encryption.org" in guide.notice.text()
    assert "does not open addresses on the network" in guide.notice.text()
    assert guide.browser.toPlainText() == before
    assert guide.current_path == guide.guide.path  # type: ignore[union-attr]


def test_links_to_other_documents_open_in_the_window_and_back_returns(qtbot: QtBot) -> None:
    guide = _guide(qtbot, "en")
    guide.browser.anchorClicked.emit(QUrl("disclosure.md"))
    assert guide.current_path is not None
    assert guide.current_path.name == "disclosure.md"
    assert guide.back_button.isEnabled()
    guide.back_button.click()
    assert guide.current_path.name == "user-guide.md"
    assert not guide.back_button.isEnabled()
    guide.browser.anchorClicked.emit(QUrl("../pyproject.toml"))  # outside the docs: refused
    assert guide.current_path.name == "user-guide.md"
    assert "cannot be opened in the guide" in guide.notice.text()


def test_every_contents_link_of_each_guide_has_its_heading(qtbot: QtBot) -> None:
    for language in ("en", "uk", "ru"):
        guide = _guide(qtbot, language)
        assert guide.guide is not None
        text = guide.guide.path.read_text(encoding="utf-8")
        links = re.findall(r"\]\(#([^)\s]+)\)", text)
        assert len(links) >= 16, language
        missing = [link for link in links if link not in guide.anchors]
        assert missing == [], (language, missing)


def test_screenshots_load_and_the_rendering_looks_right(qtbot: QtBot, tmp_path: Path) -> None:
    guide = _guide(qtbot, "en")
    guide.resize(1000, 680)
    image = guide.browser.document().resource(
        QTextDocument.ResourceType.ImageResource, QUrl("screenshots/create-profile-en.png")
    )
    assert isinstance(image, QPixmap)
    assert not image.isNull()
    assert image.width() == 640
    # Wide screenshots are scaled to fit the window, keeping their proportions (1280×720).
    widths = _image_widths(guide.browser.document())
    assert widths["screenshots/case-evidence-en.png"] == (
        IMAGE_MAX_WIDTH,
        IMAGE_MAX_WIDTH * 720 / 1280,
    )
    assert widths["screenshots/create-profile-en.png"] == (0, 0)  # natural size
    assert guide.go_to_anchor("4-creating-a-profile")
    picture = guide.grab()
    folder = Path(os.environ.get("FIELDKIT_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    assert picture.save(str(folder / "user-guide-en.png"))
    # Something was drawn in the text: many distinct colours (text, a screenshot), not a blank.
    rendered = picture.toImage()
    colours = {
        rendered.pixel(x, y)
        for x in range(300, rendered.width(), 7)
        for y in range(60, rendered.height(), 7)
    }
    assert len(colours) > 20


def _image_widths(document: QTextDocument) -> dict[str, tuple[float, float]]:
    found = {}
    block = document.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fmt = it.fragment().charFormat()
            if fmt.isImageFormat():
                image = fmt.toImageFormat()
                found[image.name()] = (image.width(), image.height())
            it += 1
        block = block.next()
    return found


def test_the_ukrainian_guide_renders_with_its_screenshots(qtbot: QtBot, tmp_path: Path) -> None:
    i18n.set_language("uk")
    guide = _guide(qtbot, "uk")
    guide.resize(1000, 680)
    image = guide.browser.document().resource(
        QTextDocument.ResourceType.ImageResource, QUrl("screenshots/create-profile-uk.png")
    )
    assert isinstance(image, QPixmap)
    assert not image.isNull()
    assert guide.go_to_anchor("4-створення-профілю")
    assert guide.browser.textCursor().block().text() == "4. Створення профілю"
    guide.search_edit.setText("ланцюг зберігання")
    assert guide.find_next()
    assert guide.browser.textCursor().selectedText().lower() == "ланцюг зберігання"
    folder = Path(os.environ.get("FIELDKIT_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    assert guide.grab().save(str(folder / "user-guide-uk.png"))
