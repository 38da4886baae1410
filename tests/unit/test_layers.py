"""The import rules between layers (docs/developing.md), checked on the source itself.

* Only ``ui/`` and ``app.py`` import PySide6.
* ``ui/`` never imports SQLAlchemy or ``fieldkit.storage``.
* ``domain/`` and ``crypto/`` import neither storage, services, export nor Qt.
* The services import and work without Qt at all.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "fieldkit"


def _modules_imported(path: Path) -> set[str]:
    """Every module a file imports, absolute (relative imports resolved), at any depth."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = ".".join(path.relative_to(SRC.parent).with_suffix("").parts[:-1])
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.add(node.args[0].value)
    return found


def _files(*parts: str) -> list[Path]:
    root = SRC.joinpath(*parts)
    if root.is_file():
        return [root]
    return sorted(root.rglob("*.py"))


def _offending(files: list[Path], prefixes: tuple[str, ...]) -> list[str]:
    bad = []
    for path in files:
        for module in sorted(_modules_imported(path)):
            if any(module == p or module.startswith(p + ".") for p in prefixes):
                bad.append(f"{path.relative_to(SRC)} imports {module}")
    return bad


def test_sources_are_found() -> None:
    assert len(_files()) > 40
    assert _files("ui"), "the desktop program's sources must be checked too"


def test_only_ui_and_app_import_qt() -> None:
    allowed = {*_files("ui"), SRC / "app.py"}
    others = [p for p in _files() if p not in allowed]
    assert _offending(others, ("PySide6", "PyQt5", "PyQt6", "shiboken6")) == []


def test_ui_never_touches_storage_or_sqlalchemy() -> None:
    files = [*_files("ui"), SRC / "app.py"]
    assert _offending(files, ("sqlalchemy", "fieldkit.storage", "sqlcipher3")) == []


@pytest.mark.parametrize("layer", ["domain", "crypto"])
def test_inner_layers_stay_inside(layer: str) -> None:
    forbidden = (
        "fieldkit.storage",
        "fieldkit.services",
        "fieldkit.export",
        "fieldkit.ui",
        "fieldkit.cli",
        "fieldkit.app",
        "sqlalchemy",
        "PySide6",
    )
    assert _offending(_files(layer), forbidden) == []


def test_services_import_and_run_without_qt(tmp_path: Path) -> None:
    """In a fresh interpreter where PySide6 cannot be imported, every service module imports and
    a profile can be created and used."""
    code = f"""
import sys, os, importlib, pkgutil
sys.modules["PySide6"] = None
os.environ["FIELDKIT_INSECURE_TEST_KDF"] = "1"
import fieldkit.services
names = [m.name for m in pkgutil.iter_modules(fieldkit.services.__path__)]
for name in names:
    importlib.import_module("fieldkit.services." + name)
from pathlib import Path
from fieldkit.domain.profile import Role
from fieldkit.services.profile import create_profile, profile_info
vault = create_profile(Path({str(tmp_path / "p")!r}), "тихий вечір над Дніпром 7 «лапки»",
                       Role.MONITOR)
info = profile_info(vault)
vault.lock()
assert "PySide6" not in [m for m in sys.modules if sys.modules[m] is not None]
print(len(names), info.role.value)
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    count, role = result.stdout.split()
    assert int(count) >= 2
    assert role == "monitor"


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


@pytest.mark.parametrize(
    "layer", ["services", "storage", "export", "crypto", "domain", "cli", "ui"]
)
def test_no_import_cycles(layer: str) -> None:
    """No circle of imports inside a layer, counting imports inside functions too (such an import
    only hides a circle; it stays one)."""
    names = {_module_name(p): p for p in _files(layer)}
    graph = {
        name: {m for m in _modules_imported(path) if m in names and m != name}
        for name, path in names.items()
    }
    assert _cycles(graph) == []


def test_main_window_parts_stay_small() -> None:
    """The main window is split along its ideas; no part grows past the size limit again."""
    parts = sorted(SRC.joinpath("ui").glob("main_*.py"))
    assert len(parts) >= 5
    for path in parts:
        lines = path.read_text(encoding="utf-8").count("\n")
        assert lines <= 600, f"{path.name}: {lines} lines"
