"""What every benchmark stands on: its own PostgreSQL database, Redis, the app and its Wix emulator
under gunicorn, and a Celery worker and beat, each a child process stopped however the run ends.

A benchmark builds a `Stack`, calls `boot()` before importing any model (settings read the
environment once, at import), and prints its figures through a `Report`, whose `finish()` is the
process's exit status: non-zero when a target is missed.

Redis and Celery come from the tests' own helpers (tests/processes.py), so the benchmarks run the
engine exactly as the integration tests do.

Its parts: `_lifecycle` (cleanups, exit status), `_database`, `_procfs` (children, memory,
CPU), `_report`, `_wrk`; their public names are re-exported here, so a benchmark imports this
module alone.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sys
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.processes import CeleryProcess, RedisServer, free_port, wait_for

from ._database import (
    PG_HOST,
    PG_USER,
    RESERVED_DATABASES,
    SERVICES,
    database_cpu_seconds,
    drop_database,
    ensure_cluster,
    fresh_database,
    pg_port,
)
from ._lifecycle import _workdirs, on_exit, run
from ._procfs import Child, Memory, process_tree, tree_cpu_seconds, tree_memory
from ._report import Report, machine, median, percentile
from ._wrk import WrkResult, ensure_wrk, wrk

__all__ = [
    "PG_HOST",
    "PG_USER",
    "RESERVED_DATABASES",
    "SERVICES",
    "Child",
    "Memory",
    "Redis",
    "Report",
    "Stack",
    "WrkResult",
    "connect_emulated",
    "database_cpu_seconds",
    "drop_database",
    "ensure_cluster",
    "ensure_wrk",
    "fresh_database",
    "http_status",
    "machine",
    "make_owner",
    "median",
    "on_exit",
    "percentile",
    "pg_port",
    "process_tree",
    "run",
    "tree_cpu_seconds",
    "tree_memory",
    "wrk",
]

ROOT = Path(__file__).resolve().parent.parent


def http_status(url: str, timeout: float = 2.0) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:  # noqa: S310 - our own server
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except OSError:
        return None


class Redis(RedisServer):
    """The tests' Redis, in a session of its own.

    Ctrl-C (or `timeout`) signals the benchmark's whole process group; Redis must outlive the
    worker, which cannot shut down promptly without its broker.
    """

    new_session = True


@dataclass
class Stack:
    """One benchmark's services. Engine settings (WBM_*, WIX_*) go in `env` before `boot()`."""

    name: str
    env: dict[str, str] = field(default_factory=dict)
    web_workers: int = 3  # as the production image runs gunicorn
    web_threads: int = 1
    keep_database: bool = False
    db_name: str = ""
    db_url: str = ""
    web_port: int = 0
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="wbm-bench-")))
    redis: Redis | None = None
    web: Child | None = None
    worker: CeleryProcess | None = None
    beat: CeleryProcess | None = None

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    @property
    def emulator_url(self) -> str:
        """The emulator's base URL: a drop-in for https://www.wixapis.com."""
        return f"{self.web_url}/sandbox"

    def boot(self, *, web: bool = True, redis: bool = True) -> Stack:
        """Database, environment, Django, migrations; then Redis and the web server."""
        self.db_name = f"wbm_bench_{self.name}"
        self.db_url = fresh_database(self.db_name)
        if not self.keep_database:
            on_exit(lambda: drop_database(self.db_name))
        _workdirs.append(self.workdir)
        self.redis = Redis()
        on_exit(lambda: shutil.rmtree(self.redis.dir, ignore_errors=True) if self.redis else None)
        self.web_port = free_port()
        from cryptography.fernet import Fernet

        base = {
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DATABASE_URL": self.db_url,
            "REDIS_URL": self.redis.url,
            # As in production (docker-compose.yml): a shared cache, hence sessions from it.
            "CACHE_URL": self.redis.url.rsplit("/", 1)[0] + "/1",
            # Celery reads this before any setting; a value left in the shell must not win.
            "CELERY_BROKER_URL": self.redis.url,
            "WIX_ALLOWED_BASE_URLS": self.emulator_url,
            "SECRETS_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_DEBUG": "0",
            # The emulator stands in for Wix (installed and routed only when enabled).
            "WIXEMULATOR_ENABLED": "1",
            "PORT": str(self.web_port),
            "LOG_LEVEL": "WARNING",
        }
        self.env = {**os.environ, **base, **self.env}
        os.environ.update(self.env)
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        if redis:
            self.redis.start()
            on_exit(self.redis.stop)
        if web:
            self.start_web()
        return self

    def start_web(self) -> None:
        args = [
            sys.executable, "-m", "gunicorn", "backupapp.wsgi:application",
            "--bind", f"127.0.0.1:{self.web_port}",
            "--workers", str(self.web_workers),
            "--threads", str(self.web_threads),
            "--log-level", "warning",
        ]  # fmt: skip
        self.web = Child("web", args, self.env, self.workdir)
        self.web.start()
        on_exit(self.web.stop)
        # 403: the emulator answered (no credentials), so Django and the database are up.
        wait_for(
            lambda: http_status(f"{self.emulator_url}/wix-data/v2/backups") == 403,
            60,
            what="the web server",
        )

    def start_engine(self) -> None:
        """A Celery worker (two processes, as in the tests) and beat, with this stack's env."""
        engine_env = {**self.env, "LOG_LEVEL": self.env.get("WBM_BENCH_ENGINE_LOG", "INFO")}
        self.worker = CeleryProcess("worker", engine_env, str(self.workdir))
        self.beat = CeleryProcess("beat", engine_env, str(self.workdir))
        on_exit(self.stop_engine)
        self.worker.start()
        self.beat.start()

    def stop_engine(self) -> None:
        if self.beat:
            self.beat.stop()
        if self.worker:
            self.worker.stop()

    def worker_memory(self) -> Memory:
        assert self.worker is not None and self.worker.process is not None
        return tree_memory(self.worker.process.pid)


def make_owner(username: str = "owner") -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user(username, password=secrets.token_urlsafe(12))


def connect_emulated(
    owner: Any,
    stack: Stack,
    *,
    name: str,
    backup_seconds: float | None = None,
    restore_seconds: float | None = None,
    delete_seconds: float | None = None,
    sync_in: float = 3600.0,
    snapshot_with_backup: bool = False,
) -> tuple[Any, Any]:
    """A fresh emulated site and the product's Site for it, as if connected and synced just now.

    Written directly (no live check, no first full sync), so the emulator's request log holds
    only what the benchmark itself causes; the periodic sync is `sync_in` seconds away. Back up
    now takes no snapshot unless asked: the backup benchmarks measure the Wix backup engine, and
    snapshots have their own (bench/snapshot.py).
    """
    from datetime import timedelta

    from django.utils import timezone

    from sites import crypto
    from sites.models import Site
    from wixemulator import services as emu

    creds = emu.create_site(name=name)
    emu.set_delays(
        creds.site_id,
        backup_seconds=backup_seconds,
        restore_seconds=restore_seconds,
        delete_seconds=delete_seconds,
    )
    now = timezone.now()
    site = Site.objects.create(
        owner=owner,
        name=name,
        wix_site_id=creds.site_id,
        secret_encrypted=crypto.encrypt(creds.api_key),
        secret_hint=creds.api_key[-4:],
        api_base_url=stack.emulator_url,
        last_synced_at=now,
        next_sync_at=now + timedelta(seconds=sync_in),
        snapshot_with_backup=snapshot_with_backup,
    )
    return site, creds
