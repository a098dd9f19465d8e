"""A throwaway PostgreSQL cluster from Debian's binaries (tests and `make bench`).

As root, initdb and pg_ctl run as the `postgres` user. The server listens on a
Unix socket in a temporary folder only, with fsync off (nothing here must
survive a crash). `binaries()` is None when PostgreSQL is not installed.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PgServer:
    host: str
    port: int
    user: str
    bindir: Path | None = None

    def url(self, dbname: str) -> str:
        return f"postgresql+psycopg://{self.user}@/{dbname}?host={self.host}&port={self.port}"

    def version(self) -> str:
        if self.bindir is None:
            return "unknown"
        done = subprocess.run(
            [str(self.bindir / "postgres"), "--version"], capture_output=True, text=True
        )
        return done.stdout.strip() or "unknown"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _run_pg(command: list[str], log: Path | None = None) -> None:
    """Run initdb/pg_ctl; on failure say what PostgreSQL said (binaries exist, so fail)."""
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        server_log = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
        raise RuntimeError(
            f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}{done.stderr}"
            f"{server_log}"
        )


@contextmanager
def running(bindir: Path, settings: dict[str, str] | None = None) -> Iterator[PgServer]:
    """Start a fresh cluster, yield how to reach it, stop and delete it afterwards.

    `settings`: extra server settings (-c name=value), e.g. shared_buffers.
    """
    root = os.geteuid() == 0
    workdir = Path(tempfile.mkdtemp(prefix="onboarding-pg-"))
    datadir = workdir / "data"
    as_owner: list[str] = ["runuser", "-u", "postgres", "--"] if root else []
    if root:
        shutil.chown(workdir, "postgres", "postgres")
    port = _free_port()
    _run_pg(
        [
            *as_owner,
            str(bindir / "initdb"),
            "-D",
            str(datadir),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
        ],
    )
    options = f"-k {workdir} -p {port} -c listen_addresses='' -c fsync=off -c full_page_writes=off"
    for name, value in (settings or {}).items():
        options += f" -c {name}={value}"
    _run_pg(
        [
            *as_owner,
            str(bindir / "pg_ctl"),
            "-D",
            str(datadir),
            "-o",
            options,
            "-w",
            "-l",
            str(workdir / "log"),
            "start",
        ],
        log=workdir / "log",
    )
    try:
        yield PgServer(host=str(workdir), port=port, user="postgres", bindir=bindir)
    finally:
        subprocess.run(
            [*as_owner, str(bindir / "pg_ctl"), "-D", str(datadir), "-m", "immediate", "stop"],
            capture_output=True,
        )
        shutil.rmtree(workdir, ignore_errors=True)
