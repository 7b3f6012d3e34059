"""The benchmarks' databases: one of their own per run on the checkout's PostgreSQL cluster, and
the CPU its backends use."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

from ._lifecycle import on_exit

ROOT = Path(__file__).resolve().parent.parent
PG_HOST = "127.0.0.1"

SERVICES = ROOT / "scripts" / "services"

PG_USER = "wbm"
# Other engineers' databases on the same cluster: never touched here.
# Other engineers' databases on the same cluster: never touched here.
RESERVED_DATABASES = {"wbm", "test_wbm", "wbm_lead", "test_wbm_lead", "postgres"}


def _admin_connection() -> Any:
    import psycopg

    return psycopg.connect(
        host=PG_HOST, port=pg_port(), user=PG_USER, dbname="postgres", autocommit=True
    )


def fresh_database(name: str) -> str:
    """A new, empty database of our own on the project's cluster; returns its DATABASE_URL."""
    from psycopg import sql

    if name in RESERVED_DATABASES or not name.startswith("wbm_bench"):
        raise ValueError(f"refusing to recreate database {name!r}: bench databases are wbm_bench*")
    ensure_cluster()
    with _admin_connection() as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return f"postgres://{PG_USER}@{PG_HOST}:{pg_port()}/{name}"


def ensure_cluster() -> None:
    """The checkout's PostgreSQL cluster, started (and stopped at exit) if it was not running.

    Its port is whatever was free when it started (scripts/services); a cluster someone else
    started stays up.
    """
    running = subprocess.run([str(SERVICES), "pg-running"], check=False).returncode == 0  # noqa: S603
    if not running:
        subprocess.run([str(SERVICES), "pg-start"], check=True)  # noqa: S603
        on_exit(lambda: subprocess.run([str(SERVICES), "pg-stop"], check=False))  # noqa: S603


def pg_port() -> int:
    answer = subprocess.run(  # noqa: S603
        [str(SERVICES), "pg-port"], check=True, capture_output=True, text=True
    )
    return int(answer.stdout.strip())


def drop_database(name: str) -> None:
    from django.db import connections
    from psycopg import sql

    connections.close_all()
    with _admin_connection() as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def database_cpu_seconds(db_name: str) -> float:
    """CPU time of the PostgreSQL backends serving `db_name` now (ended ones are not counted)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            if not cmdline.startswith(f"postgres: {PG_USER} {db_name} ".encode()):
                continue
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / tick
