"""Help → User guide: the guide in the chosen language, offline, in a window of the program.

:func:`install_guide_action` adds the action (F1) to the Help menu; :class:`UserGuideWindow`
renders the Markdown guide (:mod:`fieldkit.user_guide` finds the file) with a table of contents
built from its headings and a search box. Links inside the guide and to the other shipped
documents open in the window; an address elsewhere is never opened, only shown, so nothing is
ever fetched from the network.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QUrl
from PySide6.QtGui import (
    QAction,
    QImage,
    QKeyEvent,
    QKeySequence,
    QPixmap,
    QTextCursor,
    QTextDocument,
)
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from fieldkit import user_guide
from fieldkit.i18n import _, current
from fieldkit.ui import dialogs
from fieldkit.ui.common import fitting_size, plain_label
from fieldkit.ui.fonts import monospace_font

log = logging.getLogger(__name__)

# Screenshots wider than this are shown scaled down (they keep their proportions).
IMAGE_MAX_WIDTH = 760
ANCHOR_ROLE = Qt.ItemDataRole.UserRole


@dataclass(frozen=True)
class _Place:
    path: Path
    scroll: int


class UserGuideWindow(QDialog):
    """The user guide: contents on the left, the text on the right, a search box above."""

    def __init__(self, language: str | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("userGuideWindow")
        self.setWindowTitle(_("User guide"))
        self.setWindowFlag(Qt.WindowType.WindowMaximizeButtonHint, True)
        self.language = language or current().language
        self.guide = user_guide.guide_file(self.language)
        self.current_path: Path | None = None
        self.anchors: dict[str, int] = {}
        self._history: list[_Place] = []

        self.back_button = QPushButton(_("Go back"), self)
        self.back_button.setObjectName("guideBack")
        self.back_button.setEnabled(False)
        self.back_button.clicked.connect(self.go_back)
        self.search_edit = QLineEdit(self)
        self.search_edit.setObjectName("guideSearch")
        self.search_edit.setPlaceholderText(_("Find in the guide…"))
        self.search_edit.setAccessibleName(_("Find in the guide"))
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.returnPressed.connect(self.find_next)
        self.search_edit.installEventFilter(self)
        self.next_button = QPushButton(_("Find next"), self)
        self.next_button.setObjectName("guideFindNext")
        self.next_button.clicked.connect(self.find_next)
        self.search_status = QLabel(self)
        self.search_status.setObjectName("guideSearchStatus")
        self.search_edit.textChanged.connect(lambda _text: self.search_status.clear())

        self.notice = plain_label("", "guideNotice", self)
        self.notice.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.notice.hide()

        self.contents = QTreeWidget(self)
        self.contents.setObjectName("guideContents")
        self.contents.setHeaderHidden(True)
        self.contents.setAccessibleName(_("Contents"))
        self.contents.itemActivated.connect(self._on_contents_item)
        self.contents.itemClicked.connect(self._on_contents_item)

        self.browser = QTextBrowser(self)
        self.browser.setObjectName("guideText")
        self.browser.setOpenLinks(False)
        self.browser.setOpenExternalLinks(False)
        self.browser.anchorClicked.connect(self.follow_link)
        self.browser.document().setDocumentMargin(12)

        top = QHBoxLayout()
        top.addWidget(self.back_button)
        top.addWidget(self.search_edit, 1)
        top.addWidget(self.next_button)
        top.addWidget(self.search_status)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.setObjectName("guideSplitter")
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self.contents)
        splitter.addWidget(self.browser)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([260, 740])
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.notice)
        layout.addWidget(splitter, 1)
        self.resize(fitting_size(self, 1000, 680))  # 1024×600 screens too

        if self.guide is None:
            missing = user_guide.docs_folder() / user_guide.GUIDE_FILES["en"]
            self.browser.setPlainText(
                _("The user guide is missing from this installation ({path}).").format(path=missing)
            )
            return
        if self.guide.is_fallback:
            self.show_notice(
                _(
                    "The user guide is not yet translated into your language; it is shown in "
                    "English."
                )
            )
        self.open_document(self.guide.path)

    # --- documents --------------------------------------------------------------------------

    def open_document(self, path: Path, anchor: str = "") -> None:
        """Show a Markdown document of the docs folder, its headings in the contents."""
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            log.warning("could not read %s: %s", path.name, exc)
            self.show_notice(_("This document could not be read: {name}.").format(name=path.name))
            return
        document = self.browser.document()
        document.setBaseUrl(QUrl.fromLocalFile(str(path.parent) + "/"))
        self.browser.setSearchPaths([str(path.parent)])
        self.browser.setMarkdown(text)
        self.current_path = path
        self._adjust_fragments()
        self._index_headings()
        if not anchor or not self.go_to_anchor(anchor):
            self.browser.moveCursor(QTextCursor.MoveOperation.Start)
            self.browser.verticalScrollBar().setValue(0)

    def _adjust_fragments(self) -> None:
        """Shipped monospace font for code; wide screenshots scaled to fit."""
        document = self.browser.document()
        mono = monospace_font().family()
        changes: list[tuple[int, int, Any]] = []
        block = document.begin()
        while block.isValid():
            it = block.begin()
            while not it.atEnd():
                fragment = it.fragment()
                fmt = fragment.charFormat()
                if fmt.isImageFormat():
                    image_format = fmt.toImageFormat()
                    image = document.resource(
                        QTextDocument.ResourceType.ImageResource, QUrl(image_format.name())
                    )
                    if isinstance(image, (QImage, QPixmap)) and image.width() > IMAGE_MAX_WIDTH:
                        image_format.setWidth(IMAGE_MAX_WIDTH)
                        image_format.setHeight(image.height() * IMAGE_MAX_WIDTH / image.width())
                        changes.append((fragment.position(), fragment.length(), image_format))
                elif fmt.fontFixedPitch():
                    fmt.setFontFamilies([mono])
                    changes.append((fragment.position(), fragment.length(), fmt))
                it += 1
            block = block.next()
        cursor = QTextCursor(document)
        for position, length, new_format in changes:
            cursor.setPosition(position)
            cursor.setPosition(position + length, QTextCursor.MoveMode.KeepAnchor)
            cursor.setCharFormat(new_format)

    def _index_headings(self) -> None:
        document = self.browser.document()
        headings: list[tuple[int, str, int]] = []
        block = document.begin()
        while block.isValid():
            level = block.blockFormat().headingLevel()
            if level > 0:
                headings.append((level, block.text(), block.position()))
            block = block.next()
        names = user_guide.unique_anchors([text for _level, text, _pos in headings])
        self.anchors = {name: pos for name, (_l, _t, pos) in zip(names, headings, strict=True)}
        self.contents.clear()
        parents: dict[int, QTreeWidgetItem] = {}
        for name, (level, text, _pos) in zip(names, headings, strict=True):
            if level == 1:
                continue  # the document's title
            parent = next((parents[k] for k in range(level - 1, 1, -1) if k in parents), None)
            item = QTreeWidgetItem([text])
            item.setData(0, ANCHOR_ROLE, name)
            item.setToolTip(0, text)
            if parent is None:
                self.contents.addTopLevelItem(item)
            else:
                parent.addChild(item)
            parents[level] = item
            for deeper in [k for k in parents if k > level]:
                del parents[deeper]
        self.contents.expandAll()

    def go_to_anchor(self, name: str) -> bool:
        """Scroll the heading with this anchor to the top; False when there is none."""
        position = self.anchors.get(name)
        if position is None:
            return False
        document = self.browser.document()
        block = document.findBlock(position)
        self.browser.setTextCursor(QTextCursor(block))
        top = document.documentLayout().blockBoundingRect(block).top()
        self.browser.verticalScrollBar().setValue(int(top))
        return True

    def _on_contents_item(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        self.go_to_anchor(str(item.data(0, ANCHOR_ROLE)))

    # --- links --------------------------------------------------------------------------------

    def follow_link(self, url: QUrl) -> None:
        """An anchor of this document, another shipped document, or (never opened) an address."""
        self.notice.hide()
        if url.scheme() or url.host():
            self.show_notice(
                _(
                    "The program does not open addresses on the network. To visit this page, "
                    "copy the address into a browser: {address}"
                ).format(address=url.toString())
            )
            return
        target = url.path()
        if not target:
            self.go_to_anchor(url.fragment())
            return
        folder = self.current_path.parent if self.current_path else user_guide.docs_folder()
        path = user_guide.local_document(folder, target)
        if path is None or path.suffix.lower() != ".md":
            self.show_notice(
                _("This link cannot be opened in the guide: {address}").format(
                    address=url.toString()
                )
            )
            return
        if self.current_path is not None:
            self._history.append(
                _Place(self.current_path, self.browser.verticalScrollBar().value())
            )
        self.back_button.setEnabled(True)
        self.open_document(path, url.fragment())

    def go_back(self) -> None:
        if not self._history:
            return
        place = self._history.pop()
        self.open_document(place.path)
        self.browser.verticalScrollBar().setValue(place.scroll)
        self.back_button.setEnabled(bool(self._history))

    def show_notice(self, text: str) -> None:
        self.notice.setText(text)
        self.notice.show()

    # --- search -------------------------------------------------------------------------------

    def find_next(self, backward: bool = False) -> bool:
        """Select the next occurrence of the search text (wrapping around); False if none."""
        text = self.search_edit.text().strip()
        self.search_status.clear()
        if not text:
            return False
        flags = QTextDocument.FindFlag.FindBackward if backward else QTextDocument.FindFlag(0)
        if self.browser.find(text, flags):
            return True
        start = QTextCursor.MoveOperation.End if backward else QTextCursor.MoveOperation.Start
        self.browser.moveCursor(start)
        if self.browser.find(text, flags):
            return True
        self.search_status.setText(_("Not found"))
        return False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Shift+Enter in the search box finds the previous occurrence."""
        if (
            watched is self.search_edit
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
            and event.modifiers() & Qt.KeyboardModifier.ShiftModifier
        ):
            self.find_next(backward=True)
            return True
        return super().eventFilter(watched, event)


def install_guide_action(window: Any, menu: QMenu, before: QAction | None = None) -> QAction:
    """Add "User guide" (F1) to the Help menu of ``window``; the guide opens in one window,
    raised again if it is already open."""
    action = QAction(_("&User guide"), window)
    action.setObjectName("actionUserGuide")
    # F1 everywhere, and the platform's own help key where it differs (Ctrl+? on macOS).
    keys = [QKeySequence("F1")]
    keys += [
        k for k in QKeySequence.keyBindings(QKeySequence.StandardKey.HelpContents) if k != keys[0]
    ]
    action.setShortcuts(keys)
    action.setStatusTip(_("Open the user guide in the program's language; it works offline"))

    def open_guide() -> None:
        existing = getattr(window, "guide_window", None)
        if isinstance(existing, UserGuideWindow) and existing.isVisible():
            existing.raise_()
            existing.activateWindow()
            return
        guide = UserGuideWindow(parent=window)
        window.guide_window = guide
        dialogs.show_window(guide)
        shown = guide.guide.language if guide.guide else "none"
        log.info("user guide shown (%s)", shown)  # tests/frozen waits for this line

    action.triggered.connect(lambda _checked=False: open_guide())
    if before is not None:
        menu.insertAction(before, action)
    else:
        menu.addAction(action)
    window.addAction(action)
    window.action_user_guide = action
    return action
