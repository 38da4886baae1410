"""`fieldkit report case|visit` run as a user would, and the pages looked at as images."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from fieldkit.storage.vault import Vault
from tests.export.test_reports import MARKER_NAME, build_sample, pdf_text
from tests.helpers import cli_env, require_tool, run_cli


@pytest.mark.slow
def test_report_commands_write_signed_pdfs(new_vault: Vault, tmp_path: Path) -> None:
    sample = build_sample(new_vault, tmp_path)
    profile = new_vault.path
    new_vault.lock()
    env = cli_env(profile)
    out = tmp_path / "справа.pdf"
    done = run_cli("report", "case", sample.case_id, "--out", str(out), "--lang", "uk", env=env)
    assert done.returncode == 0, done.stderr
    assert out.is_file()
    assert (tmp_path / "справа.pdf.minisig").is_file()
    assert "справа.pdf" in done.stdout
    assert "SHA-256" in done.stdout
    assert "Перелік доказів" in pdf_text(out)
    assert MARKER_NAME not in pdf_text(out)

    # A second run refuses to replace the file, with one clear line and no traceback.
    again = run_cli("report", "case", sample.case_id, "--out", str(out), env=env)
    assert again.returncode == 1
    assert again.stderr.startswith("fieldkit: ")
    assert "Traceback" not in again.stderr
    assert "already exists" in again.stderr
    # The service's error is shared with the desktop program; the command line adds its way out.
    error, hint = again.stderr.strip().splitlines()[-2:]
    assert "already exists" in error
    assert hint.startswith("fieldkit: ")
    assert "--force" in hint
    assert str(out) in hint
    again_uk = run_cli("--lang", "uk", "report", "case", sample.case_id, "--out", str(out), env=env)
    assert again_uk.returncode == 1
    assert "виконайте команду ще раз із --force" in again_uk.stderr
    forced = run_cli("report", "case", sample.case_id, "--out", str(out), "--force", env=env)
    assert forced.returncode == 0, forced.stderr

    visit = tmp_path / "visit.pdf"
    done = run_cli(
        "--json", "report", "visit", sample.visit_id, "--out", str(visit), "--lang", "en", env=env
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["ok"] is True
    assert result["pages"] >= 3
    assert Path(result["signature"]).is_file()
    assert "Facility history" in pdf_text(visit)

    bad = run_cli("report", "visit", sample.case_id, "--out", str(tmp_path / "x.pdf"), env=env)
    assert bad.returncode == 1
    assert "not a visit record" in bad.stderr
    assert not (tmp_path / "x.pdf").exists()


def test_pages_render_to_images_without_clipping(new_vault: Vault, tmp_path: Path) -> None:
    """Every page rasterises; ink stays inside the margins (nothing clipped at the edges)."""
    from fieldkit.services.reports import ReportService

    pdftoppm = require_tool("pdftoppm")
    sample = build_sample(new_vault, tmp_path)
    out = tmp_path / "case.pdf"
    result = ReportService(sample.vault).case_file(sample.case_id, out, "uk")
    subprocess.run([pdftoppm, "-png", "-r", "40", str(out), str(tmp_path / "page")], check=True)
    images = sorted(tmp_path.glob("page-*.png"))
    assert len(images) == result.pages
    for path in images:
        with Image.open(path) as image:
            grey = image.convert("L")
            width, height = grey.size
            box = grey.point(lambda v: 255 if v < 200 else 0).getbbox()
            assert box is not None, f"{path.name} is blank"
            left, top, right, bottom = box
            # 18 mm side margins at 40 dpi are about 28 px; allow a little for anti-aliasing.
            assert left >= 20, (path.name, box)
            assert right <= width - 20, (path.name, box)
            assert top >= 5, (path.name, box)
            assert bottom <= height - 5, (path.name, box)
