"""SHA256SUMS of a release and its signature, checked with the standard tools a user runs."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.helpers import require_tool

BUILD_SCRIPT = Path(__file__).resolve().parents[2] / "packaging" / "build.py"


def _build_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fieldkit_packaging_build", BUILD_SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.tools
def test_sums_and_signature_check_with_sha256sum_and_minisign(tmp_path: Path) -> None:
    minisign = require_tool("minisign")
    sha256sum = require_tool("sha256sum")
    build = _build_module()
    out = tmp_path / "dist"
    out.mkdir()
    artefact = out / "fieldkit-0.1.0-linux-x86_64.tar.gz"
    artefact.write_bytes(b"ARTEFACT-CANARY-Q7 " * 1000)
    secret, public = tmp_path / "release.key", tmp_path / "release.pub"
    subprocess.run(
        [minisign, "-G", "-W", "-s", str(secret), "-p", str(public)],
        check=True,
        capture_output=True,
    )
    sums = build.write_sums(out, [artefact])
    signature = build.sign_sums(sums, secret, "0.1.0")
    assert signature == out / "SHA256SUMS.minisig"

    checked = subprocess.run(
        [sha256sum, "-c", "SHA256SUMS"], cwd=out, capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.strip() == f"{artefact.name}: OK"
    verified = subprocess.run(
        [minisign, "-Vm", str(sums), "-p", str(public)], capture_output=True, text=True, check=False
    )
    assert verified.returncode == 0, verified.stderr
    assert "Trusted comment: fieldkit 0.1.0 SHA256SUMS" in verified.stdout

    # A changed artefact fails the sum; a changed SHA256SUMS fails the signature.
    artefact.write_bytes(b"ARTEFACT-CANARY-Q7 altered")
    assert subprocess.run([sha256sum, "-c", "SHA256SUMS"], cwd=out, capture_output=True).returncode
    sums.write_text(sums.read_text().replace("0", "1", 1))
    assert subprocess.run(
        [minisign, "-Vm", str(sums), "-p", str(public)], capture_output=True
    ).returncode
