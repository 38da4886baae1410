"""Build fieldkit for the machine this runs on: ``python3 dev.py package`` calls this in the venv.

    python packaging/build.py [--test] [--out DIR]

1. PyInstaller (packaging/fieldkit.spec) makes the program folder under build/pyinstaller/.
2. The folder becomes this OS's artefact in dist/: a tarball on Linux (with the desktop entry,
   icons and AppStream metadata), a zip of the folder on Windows (and the installer when Inno
   Setup's ``iscc`` is on PATH), the .app in a .dmg on macOS (``hdiutil``).
3. ``SHA256SUMS`` lists every artefact; with ``FIELDKIT_RELEASE_KEY`` naming an (unencrypted)
   minisign secret key file, ``SHA256SUMS.minisig`` signs it.
4. With ``--test``, the Linux tarball is unpacked into a fresh folder and tests/frozen runs
   against it (no Python environment on the program's path).

SOURCE_DATE_EPOCH defaults to the commit time, so archives carry fixed times (packaging/README.md).
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import hashlib
import io
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
BUILD = ROOT / "build" / "pyinstaller"
APP_ID = "org.fieldkit.fieldkit"
KEY_ENV = "FIELDKIT_RELEASE_KEY"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def log(message: str) -> None:
    print(f"[package] {message}", flush=True)


def version() -> str:
    sys.path.insert(0, str(ROOT / "src"))
    import fieldkit

    return fieldkit.__version__


def source_date_epoch() -> int:
    """SOURCE_DATE_EPOCH if set, else the time of the commit being built (else now)."""
    if os.environ.get("SOURCE_DATE_EPOCH"):
        return int(os.environ["SOURCE_DATE_EPOCH"])
    done = subprocess.run(
        ["git", "log", "-1", "--format=%ct"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    return (
        int(done.stdout.strip())
        if done.returncode == 0 and done.stdout.strip()
        else int(time.time())
    )


def machine() -> str:
    arch = platform.machine().lower()
    return {"amd64": "x86_64", "arm64": "aarch64" if sys.platform == "linux" else "arm64"}.get(
        arch, arch
    )


def run_pyinstaller(epoch: int) -> Path:
    env = dict(os.environ, SOURCE_DATE_EPOCH=str(epoch), PYTHONHASHSEED="0")
    env.pop("PYTHONPATH", None)
    command = [
        sys.executable,
        "-m",
        "PyInstaller",
        "--noconfirm",
        "--clean",
        "--log-level",
        "WARN",
        "--distpath",
        str(BUILD / "dist"),
        "--workpath",
        str(BUILD / "work"),
        str(PACKAGING / "fieldkit.spec"),
    ]
    started = time.monotonic()
    subprocess.run(command, cwd=ROOT, env=env, check=True)
    log(f"PyInstaller finished in {time.monotonic() - started:.0f} s")
    return BUILD / "dist" / "fieldkit"


# --- Linux: tarball ------------------------------------------------------------------------


def linux_extras(top: str) -> dict[str, bytes | Path]:
    """Desktop entry, icons, AppStream metadata and the helper scripts, by path in the tarball."""
    files: dict[str, bytes | Path] = {
        f"{top}/share/applications/{APP_ID}.desktop": PACKAGING / "linux" / f"{APP_ID}.desktop",
        f"{top}/share/metainfo/{APP_ID}.metainfo.xml": PACKAGING
        / "linux"
        / f"{APP_ID}.metainfo.xml",
        f"{top}/share/icons/hicolor/scalable/apps/{APP_ID}.svg": ROOT
        / "resources"
        / "icons"
        / "fieldkit.svg",
        f"{top}/install-desktop-entry.sh": PACKAGING / "linux" / "install-desktop-entry.sh",
        f"{top}/uninstall.sh": PACKAGING / "linux" / "uninstall.sh",
        f"{top}/README.txt": PACKAGING / "linux" / "README.txt",
        f"{top}/INSTALL.md": ROOT / "docs" / "install.md",
    }
    for size in ICON_SIZES:
        files[f"{top}/share/icons/hicolor/{size}x{size}/apps/{APP_ID}.png"] = (
            ROOT / "resources" / "icons" / f"fieldkit-{size}.png"
        )
    return files


def _tar_info(
    name: str, epoch: int, *, mode: int, kind: bytes = tarfile.REGTYPE
) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mtime = epoch
    info.mode = mode
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def write_tarball(folder: Path, target: Path, top: str, epoch: int) -> None:
    """A .tar.gz with sorted names, fixed times and owners (the same bytes from the same input)."""
    entries: dict[str, bytes | Path | None] = {}  # None: a directory
    for path in sorted(folder.rglob("*")):
        name = f"{top}/{path.relative_to(folder).as_posix()}"
        entries[name] = None if path.is_dir() and not path.is_symlink() else path
    entries.update(linux_extras(top))
    for name in list(entries):
        parent = name.rsplit("/", 1)[0]
        while parent and parent not in entries:
            entries[parent] = None
            parent = parent.rsplit("/", 1)[0] if "/" in parent else ""
    # Level 6: level 9 takes about twice as long for a tarball 1-2 % smaller.
    with (
        target.open("wb") as out,
        gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=epoch, compresslevel=6) as packed,
        tarfile.open(fileobj=packed, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for name in sorted(entries):
            source = entries[name]
            if source is None:
                tar.addfile(_tar_info(name, epoch, mode=0o755, kind=tarfile.DIRTYPE))
            elif isinstance(source, bytes):
                info = _tar_info(name, epoch, mode=0o644)
                info.size = len(source)
                tar.addfile(info, io.BytesIO(source))
            elif source.is_symlink():
                info = _tar_info(name, epoch, mode=0o777, kind=tarfile.SYMTYPE)
                info.linkname = os.readlink(source)
                tar.addfile(info)
            else:
                executable = os.access(source, os.X_OK) or name.endswith(".sh")
                info = _tar_info(name, epoch, mode=0o755 if executable else 0o644)
                info.size = source.stat().st_size
                with source.open("rb") as handle:
                    tar.addfile(info, handle)


# --- Windows and macOS (recipes: run on those systems) --------------------------------------


def write_zip(folder: Path, target: Path, top: str, epoch: int) -> None:
    stamp = time.gmtime(max(epoch, 315532800))[:6]
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                info = zipfile.ZipInfo(f"{top}/{path.relative_to(folder).as_posix()}", stamp)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                archive.writestr(info, path.read_bytes())


def windows_installer(out: Path, ver: str) -> Path | None:
    iscc = shutil.which("iscc") or shutil.which("ISCC.exe")
    if iscc is None:
        log("Inno Setup (iscc) is not on PATH: only the zip is made")
        return None
    subprocess.run(
        [iscc, f"/DAppVersion={ver}", f"/DSourceDir={BUILD / 'dist' / 'fieldkit'}", f"/O{out}"]
        + [str(PACKAGING / "windows" / "fieldkit.iss")],
        check=True,
    )
    return out / f"fieldkit-{ver}-windows-setup.exe"


def macos_dmg(out: Path, ver: str) -> Path:
    app = BUILD / "dist" / "fieldkit.app"
    target = out / f"fieldkit-{ver}-macos-{machine()}.dmg"
    subprocess.run([str(PACKAGING / "macos" / "make-dmg.sh"), str(app), str(target)], check=True)
    return target


# --- sums and signature ---------------------------------------------------------------------


def write_sums(out: Path, artefacts: list[Path]) -> Path:
    lines = []
    for artefact in sorted(artefacts, key=lambda p: p.name):
        digest = hashlib.sha256()
        with artefact.open("rb") as handle:
            for block in iter(lambda h=handle: h.read(1 << 20), b""):
                digest.update(block)
        lines.append(f"{digest.hexdigest()}  {artefact.name}\n")
    sums = out / "SHA256SUMS"
    sums.write_text("".join(lines), encoding="ascii")
    return sums


def sign_sums(sums: Path, key_file: Path, ver: str) -> Path:
    sys.path.insert(0, str(ROOT / "src"))
    from fieldkit.crypto.minisign import MinisignSecretKey, sign

    key = MinisignSecretKey.parse(key_file.read_bytes())
    signature = sign(
        key.private_key,
        sums.read_bytes(),
        trusted_comment=f"fieldkit {ver} SHA256SUMS",
        untrusted_comment="signature from the fieldkit release key",
    )
    # sign() names the key by fieldkit's own id (derived from the public key); a key made by
    # `minisign -G` has a random id, which `minisign -V` expects. The id is not signed.
    signature = dataclasses.replace(signature, key_id=key.key_id)
    target = sums.with_name("SHA256SUMS.minisig")
    target.write_bytes(signature.file_bytes())
    log(f"signed SHA256SUMS with key {key.public.id_hex}")
    return target


# --- the frozen tests -----------------------------------------------------------------------


def run_frozen_tests(tarball: Path, extra: list[str]) -> int:
    with tempfile.TemporaryDirectory(prefix="fieldkit-frozen-") as scratch:
        with tarfile.open(tarball) as tar:
            tar.extractall(scratch, filter="tar")
        (folder,) = Path(scratch).iterdir()
        env = dict(os.environ, FIELDKIT_FROZEN_DIR=str(folder), PYTHONDONTWRITEBYTECODE="1")
        # The tests compare against this checkout's own translations.
        env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")])
        )
        command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "tests/frozen", *extra]
        return subprocess.run(command, cwd=ROOT, env=env, check=False).returncode


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--test", action="store_true", help="run tests/frozen on the artefact")
    parser.add_argument("--out", type=Path, default=ROOT / "dist")
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    args = parser.parse_args(argv)
    ver, epoch = version(), source_date_epoch()
    started = time.monotonic()
    folder = run_pyinstaller(epoch)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("fieldkit-*"):
        old.unlink()
    top = f"fieldkit-{ver}"
    artefacts: list[Path] = []
    if sys.platform == "linux":
        tarball = out / f"fieldkit-{ver}-linux-{machine()}.tar.gz"
        write_tarball(folder, tarball, top, epoch)
        artefacts.append(tarball)
    elif sys.platform == "win32":
        archive = out / f"fieldkit-{ver}-windows-{machine()}.zip"
        write_zip(folder, archive, top, epoch)
        artefacts.append(archive)
        installer = windows_installer(out, ver)
        if installer is not None:
            artefacts.append(installer)
    elif sys.platform == "darwin":
        artefacts.append(macos_dmg(out, ver))
    sums = write_sums(out, artefacts)
    key = os.environ.get(KEY_ENV)
    if key:
        sign_sums(sums, Path(key).expanduser(), ver)
    for artefact in artefacts:
        log(
            f"{artefact.relative_to(out.parent) if out.parent in artefact.parents else artefact}"
            f": {artefact.stat().st_size / 1e6:.1f} MB"
        )
    log(f"built in {time.monotonic() - started:.0f} s")
    if args.test:
        if sys.platform != "linux":
            log("the frozen tests run on Linux only")
            return 1
        return run_frozen_tests(artefacts[0], args.pytest_args)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
