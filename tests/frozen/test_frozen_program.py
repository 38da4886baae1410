"""The built program, unpacked and run without Python, does a monitor's and a coordinator's work.

Two laptops (each its own empty HOME, TMPDIR and an empty PATH folder): a coordinator sets up the
organisation, a monitor enrols, records a case, adds a photo (decoded by the frozen media child
process), exports a bundle; the coordinator imports it and prints a PDF report. The desktop program
opens offscreen and quits on SIGTERM; on an X server (Xvfb) it is unlocked by typed keys and shows
the case. Finally every file the program wrote is listed: only the profile folder, the settings
file and the log; none of them (nor any Qt cache) holds the record text in plaintext.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from fieldkit import __version__, user_guide
from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.i18n import Translator
from tests.frozen.support import (
    CANARY,
    CLI,
    DESKTOP,
    FROZEN,
    PASSPHRASE,
    Person,
    log_has,
    stop,
    wait_for,
    written_files,
    xwd_to_png,
)
from tests.helpers import require_tool

HOLD_SECONDS = 3.0
CHECKOUT = Path(__file__).resolve().parents[2]


@dataclass
class Story:
    root: Path
    monitor: Person
    coordinator: Person
    out: dict[str, Any] = field(default_factory=dict)


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Story:
    root = tmp_path_factory.mktemp("frozen")
    # The monitor's program finds its folders from HOME, the coordinator's from XDG variables.
    s = Story(root, Person.make(root / "monitor"), Person.make(root / "coordinator", xdg=True))
    usb = root / "usb"
    usb.mkdir()
    m, c = s.monitor, s.coordinator
    c.ok("init", "--role", "coordinator", "--json")
    c.ok("org", "init", "--name", "ORG-CANARY-Q7", "--json")
    c.ok("org", "public", "--out", str(root / "org.pub"), "--json")
    m.ok("init", "--json")
    m.ok("enrol", str(root / "org.pub"), "--out", str(usb / "device.pub"))
    c.ok("trust", "add", str(usb / "device.pub"), "--label", "M-1 laptop")
    case = json.loads(
        m.ok("case", "add", "--title", CANARY, "--type", "torture_allegation", "--json")
    )
    s.out["case_id"] = case["id"]
    photo = root / "photo.jpg"
    Image.new("RGB", (96, 64), (180, 40, 60)).save(photo, "JPEG", quality=85)
    s.out["evidence"] = json.loads(
        m.ok("evidence", "add", str(photo), "--case", case["id"], "--json")
    )
    s.out["export"] = json.loads(m.ok("export", "--to", str(usb), "--json"))
    s.out["import"] = json.loads(c.ok("import", s.out["export"]["path"], "--json"))
    s.out["info"] = json.loads(c.ok("info", "--json"))
    s.out["pdf"] = root / "case-uk.pdf"
    c.ok("--lang", "uk", "report", "case", case["id"], "--out", str(s.out["pdf"]), "--json")
    return s


def test_version_runs_without_python() -> None:
    done = subprocess.run(
        [str(CLI), "--version"], env={"PATH": "/nonexistent"}, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"fieldkit {__version__}"


def test_photo_preview_comes_from_the_frozen_media_child(story: Story) -> None:
    (item,) = story.out["evidence"]["items"]
    assert item["status"] == "added"
    assert item["media_type"] == "image/jpeg"
    assert item["preview"] == {"status": "ok", "reason": None}


def test_coordinator_imports_the_monitors_bundle(story: Story) -> None:
    (bundle,) = story.out["import"]["bundles"]
    assert Path(bundle["receipt"]).is_file()
    counts = story.out["info"]["counts"]
    assert counts["imported_bundles"] == 1, counts
    assert counts["records"] >= 1, counts
    assert counts["evidence_items"] == 1, counts


def test_report_embeds_its_fonts(story: Story) -> None:
    pdffonts = require_tool("pdffonts")
    pdftotext = require_tool("pdftotext")
    listing = subprocess.run(
        [pdffonts, str(story.out["pdf"])], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    assert listing, "the report uses no fonts?"
    for line in listing:
        # name type encoding emb sub uni object-number generation: emb is the fifth from the end
        assert line.split()[-5] == "yes", f"font not embedded: {line}"
    text = subprocess.run(
        [pdftotext, str(story.out["pdf"]), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Справа" in text  # the case file, in Ukrainian
    assert story.out["case_id"][:8] in text


def test_messages_in_ukrainian(story: Story) -> None:
    missing = story.root / "no-profile-here"
    done = story.monitor.run("--lang", "uk", "--profile", str(missing), "info")
    assert done.returncode == 1
    expected = FieldkitError(ErrorCode.PROFILE_NOT_FOUND, path=str(missing)).message(
        Translator("uk")
    )
    assert expected != FieldkitError(ErrorCode.PROFILE_NOT_FOUND, path=str(missing)).message(
        Translator("en")
    )
    assert done.stderr.strip() == f"fieldkit: {expected}"


@pytest.mark.parametrize("language", ["en", "uk", "ru"])
def test_the_user_guide_ships_in_every_language(story: Story, language: str) -> None:
    """The guide Help -> User guide opens, found by the frozen program itself, with its
    screenshots."""
    found = json.loads(story.monitor.ok("--lang", language, "guide", "--json"))
    path = Path(found["path"])
    assert path.resolve().is_relative_to(FROZEN.resolve()), path
    # The build ships what the source tree has: a language without its guide falls back to English.
    written = (CHECKOUT / "docs" / user_guide.GUIDE_FILES[language]).is_file()
    expected = (language, False) if written else ("en", True)
    assert (found["language"], found["fallback"]) == expected, found
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# ")
    if found["language"] != "en":
        assert re.search("[А-Яа-яІіЇїЄєЁё]{4}", text.splitlines()[0]), text.splitlines()[0]
    images = re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", text)
    assert images, "the guide shows no screenshots?"
    for image in images:
        assert (path.parent / image).is_file(), image


def _start_desktop(person: Person, **env: str) -> tuple[subprocess.Popen[bytes], int]:
    before = person.log_file.stat().st_size if person.log_file.exists() else 0
    proc = subprocess.Popen(
        [str(DESKTOP)],
        env=person.env(**env),
        cwd=person.home,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    return proc, before


def test_desktop_opens_offscreen_and_quits_cleanly(story: Story) -> None:
    person = story.monitor
    proc, offset = _start_desktop(person, QT_QPA_PLATFORM="offscreen")
    try:
        wait_for(log_has(person, "first window shown", offset), "first window", proc)
        # A few seconds with the window open: timers, the idle watcher and the event loop run.
        with pytest.raises(subprocess.TimeoutExpired):
            proc.wait(timeout=HOLD_SECONDS)
    finally:
        code, stderr = stop(proc)
    assert code == 0, stderr
    assert "Traceback" not in stderr
    assert log_has(person, "desktop program stopped", offset)()


def _wait_for_x_server(xdotool: str, display: str, server: subprocess.Popen[bytes]) -> None:
    """Until the X server answers a client (it prints its number as it starts listening)."""

    def answers() -> bool:
        done = subprocess.run(
            [xdotool, "getdisplaygeometry"], env={"DISPLAY": display}, capture_output=True
        )
        return done.returncode == 0

    wait_for(answers, "answer from Xvfb", server)


def _window_id(xdotool: str, display: str, proc: subprocess.Popen[bytes]) -> str:
    found: list[str] = []

    def visible() -> bool:
        done = subprocess.run(
            [xdotool, "search", "--onlyvisible", "--pid", str(proc.pid), "--name", "."],
            env={"DISPLAY": display},
            capture_output=True,
            text=True,
        )
        found[:] = done.stdout.split()
        return bool(found)

    wait_for(visible, "visible window on the X server", proc)
    return found[0]


def test_desktop_on_x_unlocks_and_shows_the_case(story: Story) -> None:
    xvfb = require_tool("Xvfb")
    xdotool = require_tool("xdotool")
    person = story.monitor
    # -noreset: by default Xvfb resets whenever its last client leaves, and closes the connections
    # still in their handshake. Each xdotool poll below is such a last client until the program
    # has connected, so without it the program's connection was sometimes dropped ("could not
    # connect to display") and Qt aborted (SIGABRT) before its window appeared.
    server = subprocess.Popen(
        [xvfb, "-displayfd", "1", "-noreset", "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert server.stdout is not None
        number = server.stdout.readline().decode().strip()
        assert number.isdigit(), f"Xvfb did not start (exit {server.poll()})"
        display = f":{number}"
        _wait_for_x_server(xdotool, display, server)
        proc, offset = _start_desktop(person, DISPLAY=display, QT_QPA_PLATFORM="xcb")
        try:
            window = _window_id(xdotool, display, proc)
            xenv = {"DISPLAY": display}
            subprocess.run([xdotool, "windowfocus", "--sync", window], env=xenv, check=True)
            subprocess.run([xdotool, "type", "--delay", "5", PASSPHRASE], env=xenv, check=True)
            subprocess.run([xdotool, "key", "Return"], env=xenv, check=True)
            wait_for(log_has(person, "main window shown", offset), "main window", proc)
            with pytest.raises(subprocess.TimeoutExpired):
                proc.wait(timeout=HOLD_SECONDS)
            _screenshot(display, "frozen-main-window")
            # F1 on the main window opens the user guide (Help -> User guide) from the build.
            main = _window_id(xdotool, display, proc)
            subprocess.run([xdotool, "windowfocus", "--sync", main], env=xenv, check=True)
            subprocess.run([xdotool, "key", "F1"], env=xenv, check=True)
            wait_for(log_has(person, "user guide shown", offset), "user guide window", proc)
            _screenshot(display, "frozen-user-guide")
        finally:
            code, stderr = stop(proc)
        assert code == 0, stderr
        assert "Traceback" not in stderr
    finally:
        server.terminate()
        server.wait(timeout=30)


def _screenshot(display: str, name: str) -> None:
    """With FIELDKIT_SCREENSHOT_DIR set, keep a PNG of the screen (to look at; not asserted)."""
    folder = os.environ.get("FIELDKIT_SCREENSHOT_DIR")
    xwd = shutil.which("xwd")
    if not folder or xwd is None:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    raw = subprocess.run(
        [xwd, "-root", "-silent"], env={"DISPLAY": display}, capture_output=True, check=True
    ).stdout
    xwd_to_png(raw, Path(folder) / f"{name}.png")


def test_desktop_entry_and_appstream_metadata_are_valid() -> None:
    share = DESKTOP.parent / "share"
    entry = share / "applications" / "org.fieldkit.fieldkit.desktop"
    metadata = share / "metainfo" / "org.fieldkit.fieldkit.metainfo.xml"
    checks = (
        [require_tool("desktop-file-validate"), str(entry)],
        [require_tool("appstreamcli"), "validate", "--no-net", str(metadata)],
    )
    for command in checks:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
    for size in (16, 32, 48, 64, 128, 256, 512):
        assert (
            share / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "org.fieldkit.fieldkit.png"
        ).is_file()


def _allowed(person: Person) -> list[Path]:
    """The profile folder (encrypted), the settings file and the log (no record content)."""
    return [
        person.folder("data") / "fieldkit" / "profile",
        person.folder("config") / "fieldkit" / "settings.json",
        person.folder("state") / "fieldkit" / "log" / "fieldkit.log",
    ]


def test_writes_only_the_profile_settings_and_log_and_no_record_text(story: Story) -> None:
    """Runs last: everything above ran on these two laptops' folders (HOME, XDG, TMPDIR)."""
    for person in (story.monitor, story.coordinator):
        allowed = _allowed(person)
        written = written_files(person.root)
        unexpected = [
            str(p.relative_to(person.root))
            for p in written
            if not any(p == place or p.is_relative_to(place) for place in allowed)
        ]
        assert unexpected == [], f"{person.root.name} wrote outside its profile: {unexpected}"
        assert any(p.is_relative_to(allowed[0]) for p in written), "no profile where expected"
        needles = [CANARY.encode("utf-8"), CANARY.encode("utf-16-le"), b"ORG-CANARY-Q7"]
        for path in written:
            data = path.read_bytes()
            leaked = [n for n in needles if n in data]
            assert leaked == [], f"record text in plaintext in {path}"
