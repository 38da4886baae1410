"""A throwaway PostgreSQL cluster for the tests: initdb + pg_ctl on a unix socket, as an
unprivileged user.

One cluster per test process (each xdist worker starts its own, so workers never share a server);
each test gets a database of its own, copied from a template that already holds the schema.
Without PostgreSQL outside CI the tests that need it skip with the reason; under CI=true they fail.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

SUPERUSER = "postgres"
PORT = 54329
# Read by the vault fixtures and by tests/export/bundle_kit.py: when a test runs against
# PostgreSQL, each profile it makes gets a new database from this (None: its own SQLCipher file).
_database_source: list[Callable[[], str] | None] = [None]


def coordinator_database() -> str | None:
    """The address of a new, empty hub database, or None when the test runs on SQLite."""
    source = _database_source[0]
    return source() if source is not None else None


@contextlib.contextmanager
def profiles_on(source: Callable[[], str] | None) -> Iterator[None]:
    previous = _database_source[0]
    _database_source[0] = source
    try:
        yield
    finally:
        _database_source[0] = previous


def find_binaries() -> Path | None:
    """The newest installed server's bin folder (Debian: /usr/lib/postgresql/<major>/bin)."""
    env = os.environ.get("FIELDKIT_PG_BIN")
    if env:
        return Path(env)
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3])
    )
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def require_postgresql() -> Path:
    binaries = find_binaries()
    if binaries is not None and (binaries / "pg_ctl").exists():
        return binaries
    message = "PostgreSQL server binaries are not installed (apt-get install postgresql)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)
    raise AssertionError  # unreachable


@dataclass
class Cluster:
    binaries: Path
    root: Path
    run_as: tuple[int, int] | None
    databases: list[str] = field(default_factory=list)
    # Every role but the superuser logs in with its password (SCRAM), as on a real server; the
    # default trusts every local connection.
    password_logins: bool = False

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "socket"

    def url(self, database: str, user: str = SUPERUSER) -> str:
        return f"postgresql://{user}@/{database}?host={self.socket_dir}&port={PORT}"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        kwargs: dict[str, object] = {}
        if self.run_as is not None:
            kwargs = {"user": self.run_as[0], "group": self.run_as[1], "extra_groups": []}
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C.UTF-8"
        return subprocess.run(
            list(args),
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
            cwd=self.root,
            **kwargs,  # type: ignore[call-overload]
        )

    def start(self) -> None:
        self.socket_dir.mkdir()
        if self.run_as is not None:
            for path in (self.root, self.socket_dir):
                os.chown(path, *self.run_as)
        self._run(
            str(self.binaries / "initdb"),
            "-D",
            str(self.data),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--no-sync",
        )
        if self.password_logins:
            hba = self.data / "pg_hba.conf"
            hba.write_text(
                f"local all {SUPERUSER} trust\nlocal all all scram-sha-256\n", encoding="utf-8"
            )
            if self.run_as is not None:
                os.chown(hba, *self.run_as)
        options = " ".join(
            [
                "-c listen_addresses=''",
                f"-c unix_socket_directories={self.socket_dir}",
                f"-p {PORT}",
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
                "-c shared_buffers=32MB",
                "-c max_connections=60",
            ]
        )
        self._run(
            str(self.binaries / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.root / "server.log"),
            "-w",
            "-t",
            "60",
            "start",
        )

    def stop(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            self._run(str(self.binaries / "pg_ctl"), "-D", str(self.data), "-m", "fast", "stop")

    def psql(self, sql: str, database: str = "postgres", user: str = SUPERUSER) -> str:
        result = subprocess.run(
            [
                str(self.binaries / "psql"),
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                str(self.socket_dir),
                "-p",
                str(PORT),
                "-U",
                user,
                "-d",
                database,
                "-c",
                sql,
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return result.stdout

    def dump(self, database: str) -> bytes:
        """``pg_dump`` of a database, as an administrator (or a thief) would take it."""
        return subprocess.run(
            [
                str(self.binaries / "pg_dump"),
                "-h",
                str(self.socket_dir),
                "-p",
                str(PORT),
                "-U",
                SUPERUSER,
                "-d",
                database,
            ],
            capture_output=True,
            timeout=300,
            check=True,
        ).stdout

    def new_database(self, template: str | None = None) -> str:
        name = "t_" + uuid.uuid4().hex[:16]
        suffix = f" TEMPLATE {template}" if template else ""
        self.psql(f"CREATE DATABASE {name}{suffix}")
        self.databases.append(name)
        return name

    def drop_database(self, name: str) -> None:
        with contextlib.suppress(subprocess.SubprocessError):
            self.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def unprivileged_user() -> tuple[int, int] | None:
    """initdb refuses to run as root: root runs the server as ``nobody``."""
    if os.geteuid() != 0:
        return None
    entry = pwd.getpwnam("nobody")
    return entry.pw_uid, entry.pw_gid


OWNER_FILE = "owner.pid"
STALE_PREFIX = "fieldkit-pg-"


def stop_stale_clusters(binaries: Path, run_as: tuple[int, int] | None) -> None:
    """Servers left by a test process that was killed (its pid is gone) are stopped and removed,
    so a machine that runs the suite often does not collect them."""
    for folder in Path(tempfile.gettempdir()).glob(STALE_PREFIX + "*"):
        try:
            owner = int((folder / OWNER_FILE).read_text())
        except (OSError, ValueError):
            continue
        try:
            os.kill(owner, 0)
            continue  # its test process is still running
        except ProcessLookupError:
            pass
        except PermissionError:
            continue
        stale = Cluster(binaries=binaries, root=folder, run_as=run_as)
        stale.stop()
        shutil.rmtree(folder, ignore_errors=True)


def start_cluster(base: Path, password_logins: bool = False) -> Cluster:
    binaries = require_postgresql()
    run_as = unprivileged_user()
    if run_as is not None:
        stop_stale_clusters(binaries, run_as)
    # The test folder of root is closed to other users: the server's folder is then its own.
    root = base if run_as is None else Path(tempfile.mkdtemp(prefix=STALE_PREFIX))
    (root / OWNER_FILE).write_text(str(os.getpid()))
    cluster = Cluster(binaries=binaries, root=root, run_as=run_as, password_logins=password_logins)
    try:
        cluster.start()
    except subprocess.CalledProcessError as exc:
        log = root / "server.log"
        detail = (exc.stderr or "") + (log.read_text() if log.exists() else "")
        pytest.fail(f"the test PostgreSQL cluster did not start: {detail[-2000:]}")
    return cluster


def remove_cluster(cluster: Cluster) -> None:
    cluster.stop()
    if cluster.run_as is not None:
        shutil.rmtree(cluster.root, ignore_errors=True)
