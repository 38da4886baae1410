"""One loader finds the shipped resources in a checkout, an installed wheel and a frozen build."""

from __future__ import annotations

import shutil
import site
import subprocess
import sys
import sysconfig
import venv
from collections.abc import Iterator
from pathlib import Path

import pytest

import fieldkit
from fieldkit import resource_files
from fieldkit.domain.errors import ErrorCode, FieldkitError
from fieldkit.resource_files import resource_path, resources_root

CHECKOUT = Path(__file__).resolve().parents[2]
AREAS = ("forms", "vocabularies", "locale", "fonts", "icons")


@pytest.fixture
def fresh_loader() -> Iterator[None]:
    resources_root.cache_clear()
    yield
    resources_root.cache_clear()


def test_checkout_reads_its_own_top_level_resources() -> None:
    # The package imported is this checkout's src/fieldkit, whatever the venv's editable install
    # points at, and its resources are the checkout's resources/ beside src/.
    assert Path(fieldkit.__file__).resolve().parent == CHECKOUT / "src" / "fieldkit"
    assert resources_root() == CHECKOUT / "resources"
    for area in AREAS:
        assert resource_path(area).is_dir(), area
    assert not (CHECKOUT / "src" / "fieldkit" / "resources").exists()


def test_no_code_finds_resources_another_way() -> None:
    """Only the loader knows where resources live; other ways break in a wheel or frozen build."""
    offenders = []
    for path in sorted((CHECKOUT / "src" / "fieldkit").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if 'resources.files("fieldkit")' in text or '/ "resources" /' in text:
            offenders.append(str(path.relative_to(CHECKOUT)))
    assert offenders == []


def test_frozen_build_reads_the_unpacked_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_loader: None
) -> None:
    unpacked = tmp_path / "fieldkit" / resource_files.WHEEL_FOLDER
    shutil.copytree(CHECKOUT / "resources", unpacked)
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert resources_root() == unpacked
    assert resource_path("forms", "case.json").is_file()


def test_missing_resources_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_loader: None
) -> None:
    fake_package = tmp_path / "src" / "fieldkit"
    fake_package.mkdir(parents=True)
    monkeypatch.setattr(fieldkit, "__file__", str(fake_package / "__init__.py"))
    with pytest.raises(FieldkitError) as caught:
        resources_root()
    assert caught.value.code is ErrorCode.RESOURCES_MISSING
    assert str(tmp_path / "resources") in caught.value.message()


@pytest.mark.slow
def test_installed_wheel_carries_and_finds_the_resources(tmp_path: Path) -> None:
    """Build the wheel, install it into a new venv and use forms, translations and fonts there."""
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
        + ["-w", str(wheels), str(CHECKOUT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = wheels.glob("fieldkit-*.whl")
    target = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(target)
    python = target / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps"]
        + ["--no-index", str(wheel)],
        check=True,
        capture_output=True,
    )
    # The dependencies come from this venv's site-packages, added as a plain path (a .pth line),
    # so its own .pth files (the editable install of the source tree) are not processed.
    target_site = Path(
        sysconfig.get_path("purelib", vars={"base": str(target), "platbase": str(target)})
    )
    (target_site / "deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    script = (
        "import fieldkit, pathlib\n"
        "from fieldkit.resource_files import resources_root\n"
        "from fieldkit.domain.forms import load_template\n"
        "from fieldkit.i18n import Translator\n"
        "from fieldkit.export.reports.fonts import register_fonts\n"
        "print(pathlib.Path(fieldkit.__file__).parent)\n"
        "print(resources_root())\n"
        "load_template('case'); register_fonts()\n"
        "print(Translator('uk').gettext(\n"
        "    'The report font {name} is missing from the installation.'))\n"
        "from fieldkit.user_guide import guide_file\n"
        "print(guide_file('en').path)\n"
    )
    done = subprocess.run(
        [str(python), "-I", "-c", script], check=True, capture_output=True, text=True, cwd=tmp_path
    )
    package, root, translated, guide = done.stdout.splitlines()
    assert Path(package).is_relative_to(target)
    assert Path(root) == Path(package) / resource_files.WHEEL_FOLDER
    assert translated == "Шрифту звіту {name} немає у встановленій програмі."
    # The user guide (Help -> User guide) travels in the wheel too.
    assert Path(guide) == Path(root) / "docs" / "user-guide.md"
