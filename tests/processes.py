"""Real services for the integration tests: a Redis server, Celery worker and beat processes.

Started from the binaries the project's scripts install (scripts/services ensure); a test that
needs one and cannot have it is skipped, and CI turns such skips into failures.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float, interval: float = 0.1, what: str = "condition"):
    """Poll until `predicate()` is truthy; liveness bound only, never a speed assertion."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


def stop_process_group(process: subprocess.Popen | None) -> None:
    """SIGTERM a child started in a session of its own, with its whole tree; SIGKILL if stuck."""
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


class RedisServer:
    # A session of its own keeps Redis out of Ctrl-C sent to the caller's process group.
    new_session = False

    def __init__(self) -> None:
        self.binary = shutil.which("redis-server")
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="wbm-redis-")
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        assert self.binary, "redis-server is not installed"
        self.process = subprocess.Popen(  # noqa: S603 - our own binaries and arguments
            [
                self.binary,
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "no",
                "--dir", self.dir,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=self.new_session,
        )  # fmt: skip
        wait_for(self._answers, 10, what="redis to start")

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def flush(self) -> None:
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
            s.sendall(b"FLUSHALL\r\n")
            s.recv(16)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None


class CeleryProcess:
    """`celery worker` or `celery beat` in a child process, logging to a file."""

    def __init__(self, role: str, env: dict[str, str], workdir: str) -> None:
        self.role = role
        self.env = env
        self.workdir = workdir
        self.log_path = Path(workdir) / f"{role}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        args = [sys.executable, "-m", "celery", "-A", "backupapp", self.role, "-l", "info"]
        if self.role == "worker":
            args += ["-c", "2", "--without-mingle", "--without-gossip", "-n", "test@%h"]
        else:
            args += ["-s", str(Path(self.workdir) / "beat-schedule"), "--max-interval", "1"]
        log = open(self.log_path, "ab")  # noqa: SIM115 - lives as long as the process
        self.process = subprocess.Popen(  # noqa: S603 - our own binaries and arguments
            args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        log.close()
        if self.role == "worker":
            wait_for(lambda: b"ready." in self.log_path.read_bytes(), 60, what="worker ready")

    def kill(self) -> None:
        """SIGKILL the whole process group: no warm shutdown, no acknowledgements."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        self.process = None

    def stop(self) -> None:
        stop_process_group(self.process)
        self.process = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
