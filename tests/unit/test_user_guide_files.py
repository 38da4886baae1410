"""Finding the user guide (no Qt): the language asked for, else English; heading anchors."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from fieldkit import user_guide
from fieldkit.resource_files import resources_root
from tests.helpers import run_cli

CHECKOUT = Path(__file__).resolve().parents[2]


def test_a_checkout_reads_its_own_docs() -> None:
    assert user_guide.docs_folder() == CHECKOUT / "docs"
    found = user_guide.guide_file("en")
    assert found is not None
    assert (found.path, found.language, found.is_fallback) == (
        CHECKOUT / "docs" / "user-guide.md",
        "en",
        False,
    )


def test_a_shipped_copy_comes_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Frozen build and wheel: docs/ inside the resources folder."""
    shipped = tmp_path / "_resources"
    (shipped / "docs").mkdir(parents=True)
    shutil.copy(CHECKOUT / "docs" / "user-guide.md", shipped / "docs" / "user-guide.md")
    (shipped / "docs" / "user-guide.uk.md").write_text("# Посібник\n", encoding="utf-8")
    monkeypatch.setattr(user_guide, "resources_root", lambda: shipped)
    found = user_guide.guide_file("uk")
    assert found is not None
    assert (found.path, found.is_fallback) == (shipped / "docs" / "user-guide.uk.md", False)


def test_a_missing_language_falls_back_to_english(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "user-guide.md").write_text("# Guide\n", encoding="utf-8")
    monkeypatch.setattr(user_guide, "docs_folder", lambda: tmp_path)
    found = user_guide.guide_file("ru")
    assert found is not None
    assert (found.path.name, found.language, found.wanted, found.is_fallback) == (
        "user-guide.md",
        "en",
        "ru",
        True,
    )
    (tmp_path / "user-guide.md").unlink()
    assert user_guide.guide_file("ru") is None


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        (
            "1. What fieldkit protects, and what it does not",
            "1-what-fieldkit-protects-and-what-it-does-not",
        ),
        ("6. Enrolling a monitor's laptop, in person", "6-enrolling-a-monitors-laptop-in-person"),
        ("Duress passphrase (off unless you set it)", "duress-passphrase-off-unless-you-set-it"),
        ("4. Створення профілю", "4-створення-профілю"),
        ("6. Реєстрація ноутбука монітора — особисто", "6-реєстрація-ноутбука-монітора--особисто"),
        ("Пароль під примусом («duress»)", "пароль-під-примусом-duress"),
        ("Зв’язок з організацією", "звязок-з-організацією"),
    ],
)
def test_heading_anchors_are_githubs(heading: str, anchor: str) -> None:
    assert user_guide.heading_anchor(heading) == anchor


def test_repeated_headings_get_numbered_anchors() -> None:
    assert user_guide.unique_anchors(["Desktop", "Command line", "Desktop"]) == [
        "desktop",
        "command-line",
        "desktop-1",
    ]


def test_only_documents_inside_the_folder_are_local(tmp_path: Path) -> None:
    (tmp_path / "sync.md").write_text("# Sync\n", encoding="utf-8")
    (tmp_path.parent / "outside.md").write_text("# Outside\n", encoding="utf-8")
    assert user_guide.local_document(tmp_path, "sync.md") == (tmp_path / "sync.md").resolve()
    for target in (
        "../outside.md",
        "https://example.org/sync.md",
        "file:///etc/passwd",
        "/etc/passwd",
        "nothing.md",
        "",
    ):
        assert user_guide.local_document(tmp_path, target) is None, target


def test_the_command_line_names_the_guide_and_the_fallback() -> None:
    done = run_cli("--lang", "en", "guide", "--json")
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["path"] == str(CHECKOUT / "docs" / "user-guide.md")
    assert (found["language"], found["fallback"]) == ("en", False)
    assert Path(found["screenshots"]).is_dir()
    assert resources_root().parent == CHECKOUT


def _structure(path: Path) -> list[str]:
    """Heading levels and section numbers, outside code blocks."""
    found, in_code = [], False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and re.match(r"#{1,3} ", line):
            level, _, text = line.partition(" ")
            found.append(f"{level} {text.split('.')[0] if text[:1].isdigit() else ''}")
    return found


@pytest.mark.parametrize("language", ["uk", "ru"])
def test_a_translation_follows_the_english_guide_section_for_section(language: str) -> None:
    translated = CHECKOUT / "docs" / user_guide.GUIDE_FILES[language]
    if not translated.is_file():
        pytest.skip(f"no {translated.name} yet")
    english = _structure(CHECKOUT / "docs" / "user-guide.md")
    # The English guide ends with two short unnumbered sections (Ukrainian, Russian); a
    # translation may make its own language's one a numbered section and leave the other out.
    core = [h for h in english if h != "## "]
    theirs = [h for h in _structure(translated) if h not in ("## ", "## 17")]
    assert theirs == core
    text = translated.read_text(encoding="utf-8")
    for image in re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", text):
        assert (translated.parent / image).is_file(), image
        own = re.sub(r"-(en|uk|ru)\.png$", f"-{language}.png", image)
        assert image == own or not (translated.parent / own).is_file(), f"{image}: use {own}"


@pytest.mark.parametrize("language", ["uk", "ru"])
def test_a_translation_avoids_the_known_wrong_terms(language: str) -> None:
    """The same wording rules as the catalogues (tests/unit/test_catalogue_lint.py)."""
    from tests.unit.test_catalogue_lint import ASCII_APOSTROPHE, WRONG

    translated = CHECKOUT / "docs" / user_guide.GUIDE_FILES[language]
    if not translated.is_file():
        pytest.skip(f"no {translated.name} yet")
    text = translated.read_text(encoding="utf-8")
    found = [
        why for pattern, only, why in WRONG if only in (None, language) and pattern.search(text)
    ]
    if language == "uk":
        found += [f"ASCII apostrophe: {m.group(0)}" for m in ASCII_APOSTROPHE.finditer(text)]
    assert found == []
