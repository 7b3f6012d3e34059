"""What every benchmark stands on: its own PostgreSQL database, Redis, the app and its Wix emulator
under gunicorn, and a Celery worker and beat, each a child process stopped however the run ends.

A benchmark builds a `Stack`, calls `boot()` before importing any model (settings read the
environment once, at import), and prints its figures through a `Report`, whose `finish()` is the
process's exit status: non-zero when a target is missed.

Redis and Celery come from the tests' own helpers (tests/processes.py), so the benchmarks run the
engine exactly as the integration tests do.
"""

from __future__ import annotations

import atexit
import os
import platform
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.processes import (
    CeleryProcess,
    RedisServer,
    free_port,
    stop_process_group,
    wait_for,
)

ROOT = Path(__file__).resolve().parent.parent
PG_HOST = "127.0.0.1"
SERVICES = ROOT / "scripts" / "services"
PG_USER = "wbm"
# Other engineers' databases on the same cluster: never touched here.
RESERVED_DATABASES = {"wbm", "test_wbm", "wbm_lead", "test_wbm_lead", "postgres"}

_cleanups: list[Callable[[], None]] = []
# Working directories (logs of the web server, worker and beat): removed after a clean run, kept
# for reading after a failure.
_workdirs: list[Path] = []


def _run_cleanups() -> None:
    while _cleanups:
        action = _cleanups.pop()
        try:
            action()
        except Exception as error:  # one failed stop must not leave the others running
            print(f"cleanup: {error}", file=sys.stderr)


atexit.register(_run_cleanups)


def _exit_on_signal(signum: int, frame: Any) -> None:
    # SIGTERM would skip atexit and leave children behind; exiting normally runs the cleanups.
    raise SystemExit(128 + signum)


signal.signal(signal.SIGTERM, _exit_on_signal)


def on_exit(action: Callable[[], None]) -> None:
    """Run `action` when the benchmark ends, however it ends (newest first)."""
    _cleanups.append(action)


def run(main: Callable[[], int]) -> None:
    """Run a benchmark's `main` and exit with its status; logs are kept only when it failed."""
    status = 1
    try:
        status = main()
    finally:
        _run_cleanups()
        for workdir in _workdirs:
            if status == 0:
                shutil.rmtree(workdir, ignore_errors=True)
            else:
                print(f"logs of the web server, worker and beat: {workdir}", file=sys.stderr)
    sys.exit(status)


# --- The database ------------------------------------------------------------------------------


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


# --- Child processes ---------------------------------------------------------------------------


class Child:
    """A long-running child in its own session (its tree stops together), logging to a file."""

    def __init__(self, name: str, args: Sequence[str], env: dict[str, str], workdir: Path) -> None:
        self.name = name
        self.args = list(args)
        self.env = env
        self.log_path = workdir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
                self.args,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def stop(self) -> None:
        stop_process_group(self.process)
        self.process = None


def _children_of(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: fields start after the last ")".
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            found.append(int(entry))
    return found


def process_tree(pid: int) -> list[int]:
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(_children_of(current))
    return tree


@dataclass
class Memory:
    rss: int  # bytes, summed over the tree: counts pages shared after fork once per process
    pss: int  # bytes, shared pages split between the processes sharing them: the real footprint
    processes: int


def tree_memory(pid: int) -> Memory:
    """Memory of a process and all its descendants, from /proc (no psutil needed)."""
    rss = pss = count = 0
    for member in process_tree(pid):
        try:
            status = Path(f"/proc/{member}/status").read_text()
            rollup = Path(f"/proc/{member}/smaps_rollup").read_text()
        except OSError:
            continue  # ended while we looked
        count += 1
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                rss += int(line.split()[1]) * 1024
        for line in rollup.splitlines():
            if line.startswith("Pss:"):
                pss += int(line.split()[1]) * 1024
    return Memory(rss=rss, pss=pss, processes=count)


def tree_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by a process and its living descendants."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for member in process_tree(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # utime, stime, cutime, cstime: fields 14-17 of stat, counted from the state (field 3).
        total += sum(int(x) for x in fields[11:15])
    return total / tick


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


# --- The whole stack ---------------------------------------------------------------------------


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


# --- Load generation -------------------------------------------------------------------------


def ensure_wrk() -> str:
    """The wrk binary, installed from Debian's packages when missing and we are root."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise SystemExit("wrk is not installed: run `apt-get install wrk` as root, then again.")
    print("installing wrk from Debian's packages (apt-get install wrk)", file=sys.stderr)
    quiet = {
        "stdout": subprocess.DEVNULL,
        "env": {**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
    }
    install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", "wrk"]
    if subprocess.run(install, check=False, **quiet).returncode != 0:  # noqa: S603
        # The package lists may be missing or stale on a fresh machine.
        subprocess.run(["apt-get", "update", "-q"], check=True, **quiet)  # noqa: S607
        subprocess.run(install, check=True, **quiet)  # noqa: S603
    return shutil.which("wrk") or "wrk"


@dataclass
class WrkResult:
    requests_per_second: float
    bad_answers: int  # non-2xx/3xx answers and socket errors


def wrk(
    url: str, *, headers: dict[str, str], seconds: float, threads: int, connections: int
) -> WrkResult:
    args = [ensure_wrk(), f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    out = subprocess.run([*args, url], check=True, capture_output=True, text=True).stdout  # noqa: S603
    rps = bad = 0.0
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("Requests/sec:"):
            rps = float(line.split()[1])
        elif line.startswith("Non-2xx or 3xx responses:"):
            bad += int(line.split()[-1])
        elif line.startswith("Socket errors:"):
            bad += sum(int(part.split()[-1]) for part in line.split(":", 1)[1].split(","))
    return WrkResult(requests_per_second=rps, bad_answers=int(bad))


# --- Data --------------------------------------------------------------------------------------


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
) -> tuple[Any, Any]:
    """A fresh emulated site and the product's Site for it, as if connected and synced just now.

    Written directly (no live check, no first full sync), so the emulator's request log holds
    only what the benchmark itself causes; the periodic sync is `sync_in` seconds away.
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
    )
    return site, creds


# --- Figures -----------------------------------------------------------------------------------


def median(values: Iterable[float]) -> float:
    values = list(values)
    return statistics.median(values) if values else float("nan")


def percentile(values: Iterable[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def machine() -> str:
    total = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            total = int(line.split()[1]) * 1024
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} CPUs, {total / 2**30:.0f} GiB, {platform.machine()}, "
        f"Python {platform.python_version()}, load average {load}"
    )


class Report:
    """Prints figures as they come, each with its baseline, ratio and target when it has them."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.missed: list[str] = []
        self.started = time.monotonic()
        print(f"== {title} ==")
        print(f"machine: {machine()}")

    def note(self, text: str) -> None:
        print(f"   {text}")

    def figure(
        self,
        name: str,
        value: float,
        unit: str = "",
        *,
        baseline: float | None = None,
        baseline_name: str = "baseline",
        target: str = "",
        ok: bool | None = None,
        digits: int = 2,
    ) -> None:
        text = f"{name}: {value:.{digits}f}{unit}"
        if baseline is not None:
            ratio = value / baseline if baseline else float("inf")
            text += f"  ({baseline_name} {baseline:.{digits}f}{unit}, ratio {ratio:.2f}x)"
        if target:
            verdict = "ok" if ok else "MISSED"
            text += f"  [target {target}: {verdict}]"
            if not ok:
                self.missed.append(name)
        print(f" - {text}")

    def finish(self) -> int:
        print(f"machine at the end: {machine()}")
        print(f"took {time.monotonic() - self.started:.0f} s")
        if self.missed:
            print(f"MISSED {len(self.missed)} target(s): {', '.join(self.missed)}")
            return 1
        print("all targets met")
        return 0
