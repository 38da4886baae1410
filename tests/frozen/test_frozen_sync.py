"""The built program serves sync: `hub serve` from the frozen folder on 127.0.0.1, and `sync` from
a second person's frozen program delivers a bundle and brings back the receipt.

Both run without Python, each with its own empty HOME, TMPDIR and PATH folder (as the other
frozen tests). This is what shows that uvicorn, Starlette, h11, anyio and httpx (with the modules
they import by name at start-up) are in the folder.
"""

from __future__ import annotations

import json
import selectors
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.frozen.support import CLI, WAIT_SECONDS, Person


def _first_line(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if selector.select(timeout=0.5):
            line = proc.stdout.readline()
            if line:
                return line
        if proc.poll() is not None:
            stderr = proc.stderr.read() if proc.stderr else ""
            raise AssertionError(f"hub serve exited ({proc.returncode}): {stderr}")
    raise AssertionError(f"hub serve did not start within {WAIT_SECONDS:.0f} s")


@pytest.fixture(scope="module")
def people(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Person, Person]:
    root = tmp_path_factory.mktemp("frozen-sync")
    coordinator, monitor = Person.make(root / "coordinator"), Person.make(root / "monitor")
    coordinator.ok("init", "--role", "coordinator", "--json")
    coordinator.ok("org", "init", "--name", "ORG-SYNC-Q7", "--json")
    coordinator.ok("org", "public", "--out", str(root / "org.pub"), "--json")
    monitor.ok("init", "--json")
    monitor.ok("enrol", str(root / "org.pub"), "--out", str(root / "device.pub"))
    coordinator.ok("trust", "add", str(root / "device.pub"), "--label", "M-2 laptop")
    monitor.ok("case", "add", "--title", "SYNC-CASE-Q7", "--type", "torture_allegation", "--json")
    return root, coordinator, monitor


@pytest.fixture(scope="module")
def server(people: tuple[Path, Person, Person]) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    _root, coordinator, _monitor = people
    proc = subprocess.Popen(
        [str(CLI), "--json", "hub", "serve", "--listen", "127.0.0.1:0"],
        env=coordinator.env(),
        cwd=coordinator.home,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        doc = json.loads(_first_line(proc))
        yield str(doc["listening"]), proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=WAIT_SECONDS)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=WAIT_SECONDS)


def test_hub_serve_receives_a_frozen_monitors_sync(
    people: tuple[Path, Person, Person], server: tuple[str, subprocess.Popen[str]]
) -> None:
    root, coordinator, monitor = people
    url, proc = server
    assert url.startswith("https://127.0.0.1:")
    card = root / "org-sync.pub"
    coordinator.ok("org", "public", "--out", str(card), "--sync-url", url, "--json")
    monitor.ok("enrol", str(card))  # the newer card of the same organisation, no re-enrolment
    done = json.loads(monitor.ok("sync", "--json"))
    [pushed] = done["pushed"]
    assert pushed["status"] == "imported", done
    assert done["acknowledged_bundles"] == [1], done
    # a second sync finds nothing to send
    again = json.loads(monitor.ok("sync", "--no-export", "--json"))
    assert again["pushed"] == [], again
    info = json.loads(coordinator.ok("info", "--json"))
    assert info["counts"]["imported_bundles"] == 1, info
    proc.send_signal(signal.SIGTERM)  # as systemd stops the service
    _out, stderr = proc.communicate(timeout=WAIT_SECONDS)
    # uvicorn finishes the running requests, then ends by the signal it caught (systemd counts
    # that as a clean stop)
    assert proc.returncode in (0, -signal.SIGTERM), stderr
    assert "Traceback" not in stderr, stderr
    assert "SYNC-CASE-Q7" not in stderr  # the log names bundles and devices, never content
