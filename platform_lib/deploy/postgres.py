"""A PostgreSQL server of its own for the Dagster instance: initdb, pg_ctl, a dagster.yaml.

Used by ``mesh deploy up`` (the local production stack) and by the tests. It runs the machine's
PostgreSQL binaries (on PATH, or Debian's ``/usr/lib/postgresql/<version>/bin``). PostgreSQL
refuses to run as root, so when started by root the server runs as the ``postgres`` user (which
Debian's package creates), or ``nobody`` when there is none, and owns its data folder.
"""

import os
import pwd
import shutil
import subprocess
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from platform_lib.errors import MeshError

SUPERUSER = "mesh"
DATABASE = "postgres"
"""initdb's own database; Dagster creates its tables there."""
DEBIAN_BIN_GLOB = "/usr/lib/postgresql/*/bin"
START_TIMEOUT_SECONDS = 60


class PostgresServer(BaseModel):
    """A running PostgreSQL cluster on 127.0.0.1, trusted for local connections only."""

    model_config = ConfigDict(frozen=True)

    data_dir: Path
    port: int
    run_as: str | None
    """The user the server runs as when started by root; None when it runs as the caller."""

    @property
    def url(self) -> str:
        """The SQLAlchemy URL dagster-postgres needs (psycopg2: SQLAlchemy's default driver,
        psycopg 3, breaks Dagster's NOTIFY)."""
        return f"postgresql+psycopg2://{SUPERUSER}:@127.0.0.1:{self.port}/{DATABASE}"


def dagster_instance_yaml(postgres_url: str) -> str:
    """A ``dagster.yaml`` keeping runs, events and schedules in PostgreSQL at ``postgres_url``."""
    return (
        "# Dagster's run, event-log and schedule storage in PostgreSQL. Telemetry is off.\n"
        "telemetry:\n"
        "  enabled: false\n"
        "storage:\n"
        "  postgres:\n"
        f"    postgres_url: {postgres_url}\n"
    )


def postgres_bin_dir() -> Path:
    """The folder holding ``initdb`` and ``pg_ctl``: PATH first, then Debian's newest version."""
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(on_path).parent
    versions = sorted(
        Path("/").glob(DEBIAN_BIN_GLOB.lstrip("/")),
        key=lambda folder: int(folder.parent.name) if folder.parent.name.isdigit() else 0,
    )
    for folder in reversed(versions):
        if (folder / "pg_ctl").is_file() and (folder / "initdb").is_file():
            return folder
    raise MeshError(
        "PostgreSQL's initdb and pg_ctl are neither on PATH nor in /usr/lib/postgresql/*/bin",
        fix="install PostgreSQL (Debian: apt-get install postgresql), or put its bin on PATH",
    )


def _service_user() -> str | None:
    """The user to run PostgreSQL as: None unless we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    raise MeshError(
        "PostgreSQL cannot run as root and this machine has no `postgres` or `nobody` user",
        fix="run as a non-root user, or install Debian's postgresql package (it adds `postgres`)",
    )


def _run(command: list[str], run_as: str | None, what: str) -> None:
    prefix = ["runuser", "-u", run_as, "--"] if run_as else []
    done = subprocess.run(
        [*prefix, *command], capture_output=True, text=True, check=False, timeout=120
    )
    if done.returncode != 0:
        raise MeshError(
            f"PostgreSQL {what} failed (exit {done.returncode}): "
            f"{(done.stderr or done.stdout).strip()[-1500:]}",
            fix=f"read the message above; the data folder and its parents must be reachable by "
            f"{run_as or 'you'} (a folder under /tmp or the project, not under /root)",
        )


def start_postgres(data_dir: Path, port: int) -> PostgresServer:
    """Create a cluster in ``data_dir`` (when empty) and start it on ``127.0.0.1:port``.

    Only TCP on loopback is served (no Unix socket), with ``trust`` authentication: a local
    stack for one machine, never a production database.
    """
    binaries = postgres_bin_dir()
    run_as = _service_user()
    data_dir.mkdir(parents=True, exist_ok=True)
    if run_as:
        account = pwd.getpwnam(run_as)
        os.chown(data_dir, account.pw_uid, account.pw_gid)
    data_dir.chmod(0o700)
    if not (data_dir / "PG_VERSION").exists():
        _run(
            [
                str(binaries / "initdb"),
                "-D",
                str(data_dir),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--no-instructions",
            ],
            run_as,
            "initdb",
        )
    options = f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''"
    _run(
        [
            str(binaries / "pg_ctl"),
            "start",
            "-D",
            str(data_dir),
            "-o",
            options,
            "-l",
            str(data_dir / "server.log"),
            "-w",
            "-t",
            str(START_TIMEOUT_SECONDS),
        ],
        run_as,
        "start",
    )
    return PostgresServer(data_dir=data_dir, port=port, run_as=run_as)


def stop_postgres(server: PostgresServer) -> None:
    """Stop the server (fast shutdown: open sessions are ended); the data stays."""
    if not (server.data_dir / "postmaster.pid").exists():
        return
    _run(
        [str(postgres_bin_dir() / "pg_ctl"), "stop", "-D", str(server.data_dir), "-m", "fast"],
        server.run_as,
        "stop",
    )
