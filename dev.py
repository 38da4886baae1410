#!/usr/bin/env python3
"""Set up and run fieldkit from a fresh checkout with nothing but python3.

    python3 dev.py start     create .venv, install, start the desktop program on the default profile
    python3 dev.py test      create .venv, install, run ruff, mypy and the whole test suite headless
    python3 dev.py package   build the program for this machine into dist/ (packaging/README.md);
                             `package --test` also runs tests/frozen on the built artefact

Extra arguments after `test` go to pytest (e.g. `python3 dev.py test tests/unit -x`).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".fieldkit-install-stamp"
INPUTS = ("pyproject.toml", "constraints.txt")
LINTED = ("src", "tests", "bench", "scripts", "packaging", "dev.py")
EXTRAS = "test,package"  # the tools of `test` and of `package` (PyInstaller)

# Debian packages the program or the tests need: Qt's runtime libraries for the desktop program,
# and the standard tools the tests check bundles, evidence and reports against.
SYSTEM_LIBRARIES = {
    "libGL.so.1": "libgl1",
    "libEGL.so.1": "libegl1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libfontconfig.so.1": "libfontconfig1",
    "libdbus-1.so.3": "libdbus-1-3",
    "libglib-2.0.so.0": "libglib2.0-0",
}
# Only for a real screen: Qt's xcb platform plugin loads these (the tests run offscreen).
DESKTOP_LIBRARIES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-randr.so.0": "libxcb-randr0",
}
TEST_TOOLS = {
    "age": "age",
    "minisign": "minisign",
    "pdftotext": "poppler-utils",
    "pdftoppm": "poppler-utils",
    "pdffonts": "poppler-utils",
    "sha256sum": "coreutils",
    "tar": "tar",
}
# `package --test` runs the frozen desktop program on an X server (Xvfb) and types into it.
# It also validates the shipped desktop entry and AppStream metadata.
FROZEN_TEST_TOOLS = {
    "Xvfb": "xvfb",
    "xdotool": "xdotool",
    "xwd": "x11-apps",
    "desktop-file-validate": "desktop-file-utils",
    "appstreamcli": "appstream",
}


def log(message: str) -> None:
    print(f"[dev] {message}", flush=True)


def missing_system_packages(with_test_tools: bool, frozen_tests: bool = False) -> list[str]:
    """Debian packages to install: test tools for `test`, the screen libraries for `start`,
    both and an X server for `package --test`."""
    if sys.platform != "linux":
        return []
    packages: set[str] = set()
    search = [
        Path("/lib/x86_64-linux-gnu"),
        Path("/usr/lib/x86_64-linux-gnu"),
        Path("/lib/aarch64-linux-gnu"),
        Path("/usr/lib/aarch64-linux-gnu"),
        Path("/usr/lib"),
    ]
    libraries = dict(SYSTEM_LIBRARIES)
    if not with_test_tools or frozen_tests:
        libraries.update(DESKTOP_LIBRARIES)
    for library, package in libraries.items():
        if not any((folder / library).exists() for folder in search):
            packages.add(package)
    if with_test_tools:
        packages.update(pkg for tool, pkg in TEST_TOOLS.items() if shutil.which(tool) is None)
    if frozen_tests:
        tools = FROZEN_TEST_TOOLS.items()
        packages.update(pkg for tool, pkg in tools if shutil.which(tool) is None)
    return sorted(packages)


def ensure_system_packages(with_test_tools: bool, frozen_tests: bool = False) -> None:
    missing = missing_system_packages(with_test_tools, frozen_tests)
    if not missing:
        return
    if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        log(f"installing system packages: {' '.join(missing)}")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True, env=env)
    else:
        log("these system packages are missing; install them with:")
        log(f"  sudo apt-get install {' '.join(missing)}")


def install_fingerprint() -> str:
    digest = hashlib.sha256()
    for name in INPUTS:
        digest.update((ROOT / name).read_bytes())
    digest.update(sys.version.encode())
    return digest.hexdigest()


def ensure_environment() -> None:
    if not PYTHON.exists():
        log(f"creating the virtual environment in {VENV}")
        venv.EnvBuilder(with_pip=True, clear=False).create(VENV)
    fingerprint = install_fingerprint()
    if STAMP.exists() and STAMP.read_text() == fingerprint:
        return
    log("installing fieldkit and its pinned dependencies (constraints.txt)")
    pip = [str(PYTHON), "-m", "pip", "--disable-pip-version-check"]
    subprocess.run([*pip, "install", "-q", "--upgrade", "pip"], check=True)
    subprocess.run(
        [*pip, "install", "-q", "-c", str(ROOT / "constraints.txt"), "-e", f"{ROOT}[{EXTRAS}]"],
        check=True,
    )
    STAMP.write_text(fingerprint)


def run_tests(extra: list[str]) -> int:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONDONTWRITEBYTECODE="1")
    env.pop("FIELDKIT_PROFILE", None)
    env.pop("FIELDKIT_PASSPHRASE", None)
    if not extra:
        log("ruff (lint and format)")
        steps = [
            [str(BIN / "ruff"), "check", *LINTED],
            [str(BIN / "ruff"), "format", "--check", *LINTED],
        ]
        for step in steps:
            if subprocess.run(step, cwd=ROOT, env=env, check=False).returncode != 0:
                return 1
        log("mypy (strict)")
        if subprocess.run([str(BIN / "mypy")], cwd=ROOT, env=env, check=False).returncode != 0:
            return 1
    log("pytest")
    args = [str(PYTHON), "-m", "pytest", *(extra or ["-n", "2", "--dist", "loadgroup"])]
    return subprocess.run(args, cwd=ROOT, env=env, check=False).returncode


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("start", "test", "package"):
        print(__doc__)
        return 2
    command, extra = argv[0], argv[1:]
    if command == "package":
        # The frozen tests use the test tools and Xvfb; a build alone needs neither.
        if "--test" in extra:
            ensure_system_packages(with_test_tools=True, frozen_tests=True)
        ensure_environment()
        build = [str(PYTHON), str(ROOT / "packaging" / "build.py"), *extra]
        return subprocess.run(build, cwd=ROOT, check=False).returncode
    ensure_system_packages(with_test_tools=command == "test")
    ensure_environment()
    if command == "start":
        return subprocess.run([str(BIN / "fieldkit"), *extra], check=False).returncode
    return run_tests(extra)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
