"""A throw-away PostgreSQL server on 127.0.0.1 from Debian's package, for the catalog's tests and
benchmark (production points `catalog.url` at its own server).

PostgreSQL refuses to run as root: as root the cluster is created and run as the `postgres`
user the Debian package adds, in a directory of its own (a root-only temp dir would not do).
"""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
import time
from pathlib import Path

import psycopg

HOST = "127.0.0.1"
USER = "archiefstroom"


def bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


def _as_owner(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


class Server:
    def __init__(self, port: int, base: Path | None = None):
        self.port = port
        self.base = base or Path(f"/tmp/archiefstroom-pg-{port}")
        self.data = self.base / "data"
        self.bin = bindir()

    @property
    def url(self) -> str:
        return f"postgresql://{USER}@{HOST}:{self.port}/postgres"

    def start(self) -> "Server":
        if self.bin is None:
            raise RuntimeError("no PostgreSQL server installed (scripts/setup installs Debian's postgresql)")
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)
        self.base.mkdir(parents=True)
        if os.geteuid() == 0:
            shutil.chown(self.base, "postgres", "postgres")
        self.base.chmod(0o755)
        subprocess.run(_as_owner([str(self.bin / "initdb"), "-D", str(self.data), "-U", USER, "--auth=trust",
                                  "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"]),
                       check=True, capture_output=True)
        opts = f"-c listen_addresses={HOST} -p {self.port} -k {self.base} -c fsync=off -c full_page_writes=off"
        subprocess.run(_as_owner([str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.base / "log"),
                                  "-o", opts, "-w", "-t", "60", "start"]), check=True, capture_output=True)
        deadline = time.monotonic() + 30
        while True:
            try:
                psycopg.connect(self.url, connect_timeout=2).close()
                return self
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def create_database(self, name: str) -> str:
        """A fresh database; returns its URL."""
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql://{USER}@{HOST}:{self.port}/{name}"

    def stop(self) -> None:
        if self.bin is not None and (self.data / "postmaster.pid").exists():
            subprocess.run(_as_owner([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"]),
                           capture_output=True)
