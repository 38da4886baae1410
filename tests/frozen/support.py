"""Running the frozen program as a user's machine would: no Python, a bare PATH, an empty HOME."""

from __future__ import annotations

import os
import signal
import struct
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

FROZEN = Path(os.environ.get("FIELDKIT_FROZEN_DIR", "/nonexistent"))
CLI = FROZEN / "fieldkit"
DESKTOP = FROZEN / "fieldkit-desktop"
PASSPHRASE = "correct horse battery staple 42"
# Record text that must never appear in a file outside the encrypted profile.
CANARY = "CANARYCASE-Q7"
WAIT_SECONDS = 90.0  # generous: a loaded 2-core machine; a wait for an event, never a race


@dataclass(frozen=True)
class Person:
    """One laptop: its own empty home folder, temporary folder and an empty PATH folder.

    With ``xdg``, the XDG base folders are set too (to ``root/xdg/{config,data,state,cache}``);
    without, the program must derive them from HOME.
    """

    root: Path
    home: Path
    tmp: Path
    bin: Path
    xdg: bool

    @classmethod
    def make(cls, root: Path, *, xdg: bool = False) -> Person:
        person = cls(root, home=root / "home", tmp=root / "tmp", bin=root / "bin", xdg=xdg)
        for folder in (person.home, person.tmp, person.bin):
            folder.mkdir(parents=True)
        return person

    def folder(self, kind: str) -> Path:
        """The XDG folder ``kind`` (config, data, state, cache) this person's program uses."""
        if self.xdg:
            return self.root / "xdg" / kind
        defaults = {"config": ".config", "data": ".local/share", "state": ".local/state"}
        return self.home / defaults.get(kind, ".cache")

    @property
    def log_file(self) -> Path:
        return self.folder("state") / "fieldkit" / "log" / "fieldkit.log"

    def env(self, **extra: str) -> dict[str, str]:
        """Exactly what `env -i PATH=<empty folder> HOME=<empty folder>` gives, and TMPDIR."""
        env = {
            "PATH": str(self.bin),
            "HOME": str(self.home),
            "TMPDIR": str(self.tmp),
            "FIELDKIT_PASSPHRASE": PASSPHRASE,
            "FIELDKIT_INSECURE_TEST_KDF": "1",
        }
        if self.xdg:
            for kind in ("config", "data", "state", "cache"):
                env[f"XDG_{kind.upper()}_HOME"] = str(self.folder(kind))
        env.update(extra)
        return env

    def run(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(CLI), *args],
            env=self.env(),
            cwd=cwd or self.home,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )

    def ok(self, *args: str) -> str:
        done = self.run(*args)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr, done.stderr
        return done.stdout


def wait_for(condition: Callable[[], bool], what: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if proc.poll() is not None:
            stderr = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
            raise AssertionError(f"the program exited ({proc.returncode}) before {what}: {stderr}")
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} within {WAIT_SECONDS:.0f} s")
        time.sleep(0.05)


def log_has(person: Person, line: str, after: int = 0) -> Callable[[], bool]:
    def check() -> bool:
        try:
            return line in person.log_file.read_text(encoding="utf-8")[after:]
        except FileNotFoundError:
            return False

    return check


def stop(proc: subprocess.Popen[bytes]) -> tuple[int, str]:
    """Ask the program to quit as a log-out would (SIGTERM); its exit code and stderr."""
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=WAIT_SECONDS)
    return proc.returncode, stderr.decode("utf-8", "replace")


def written_files(*roots: Path) -> list[Path]:
    return sorted(p for root in roots for p in root.rglob("*") if p.is_file() or p.is_symlink())


def xwd_to_png(raw: bytes, target: Path) -> None:
    """An `xwd -root` dump (24- or 32-bit TrueColor ZPixmap, as Xvfb gives) saved as a PNG."""
    from PIL import Image

    fields = struct.unpack(">25I", raw[:100])
    header_size, width, height = fields[0], fields[4], fields[5]
    byte_order, bits_per_pixel, bytes_per_line, ncolors = (
        fields[7],
        fields[11],
        fields[12],
        fields[19],
    )
    modes = {(32, 0): "BGRX", (32, 1): "XRGB", (24, 0): "BGR", (24, 1): "RGB"}
    mode = modes.get((bits_per_pixel, byte_order))
    if mode is None:
        raise ValueError(f"unsupported xwd layout: {bits_per_pixel} bits, byte order {byte_order}")
    start = header_size + 12 * ncolors
    pixels = raw[start : start + bytes_per_line * height]
    Image.frombuffer("RGB", (width, height), pixels, "raw", mode, bytes_per_line, 1).save(target)
