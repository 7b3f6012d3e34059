"""Real services for the integration tests: a Redis server, Celery worker and beat processes.

Started from the binaries the project's scripts install (scripts/services ensure); a test that
needs one and cannot have it is skipped, and CI turns such skips into failures.

Each process writes its pid to a `<name>.pid` file in its working directory, so that a test run
killed before its fixtures could stop them still gets them stopped (scripts/test's EXIT trap).
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


def write_pid(process: subprocess.Popen, path: Path) -> None:
    path.write_text(f"{process.pid}\n")


class RedisServer:
    # A session of its own keeps Redis out of Ctrl-C sent to the caller's process group.
    new_session = False

    def __init__(self, workdir: Path | None = None) -> None:
        """Redis on a free port, working in `workdir`; without one, in a temporary folder that
        `close()` removes (the caller who passes a folder owns it)."""
        self.binary = shutil.which("redis-server")
        self.port = free_port()
        self._owns_dir = workdir is None
        self.dir = str(workdir) if workdir is not None else tempfile.mkdtemp(prefix="wbm-redis-")
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
        write_pid(self.process, Path(self.dir) / "redis.pid")
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
        """Stop the server; `start()` may run it again (tests take Redis away on purpose)."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None

    def close(self) -> None:
        """Stop for good and remove the folder this object made."""
        self.stop()
        if self._owns_dir:
            shutil.rmtree(self.dir, ignore_errors=True)


class CeleryProcess:
    """`celery worker` or `celery beat` in a child process, logging to a file."""

    def __init__(self, role: str, env: dict[str, str], workdir: str | Path) -> None:
        self.role = role
        self.env = env
        self.workdir = str(workdir)
        self.log_path = Path(workdir) / f"{role}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        args = [sys.executable, "-m", "celery", "-A", "backupapp", self.role, "-l", "info"]
        if self.role == "worker":
            # Both queues, as one worker: the snapshot queue's tasks run beside the polls here.
            args += ["-c", "2", "-Q", "celery,snapshots"]
            args += ["--without-mingle", "--without-gossip", "-n", "test@%h"]
        else:
            args += ["-s", str(Path(self.workdir) / "beat-schedule"), "--max-interval", "1"]
        log = open(self.log_path, "ab")  # noqa: SIM115 - lives as long as the process
        self.process = subprocess.Popen(  # noqa: S603 - our own binaries and arguments
            args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        log.close()
        write_pid(self.process, Path(self.workdir) / f"{self.role}.pid")
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


class SmtpServer:
    """A real SMTP server (aiosmtpd) in a process of its own, keeping what it receives in a
    Maildir; `stop()` and `start()` again on the same port make a mail server outage."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.dir = Path(workdir)
        self.maildir = self.dir / "maildir"
        self.log_path = self.dir / "smtp.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        log = open(self.log_path, "ab")  # noqa: SIM115 - lives as long as the process
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [
                sys.executable, "-m", "aiosmtpd", "-n",
                "-l", f"127.0.0.1:{self.port}",
                "-c", "aiosmtpd.handlers.Mailbox", str(self.maildir),
            ],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        log.close()
        write_pid(self.process, self.dir / "smtp.pid")
        wait_for(self._answers, 30, what="the SMTP server to start")

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                return s.recv(64).startswith(b"220")
        except OSError:
            return False

    def stop(self) -> None:
        stop_process_group(self.process)
        self.process = None

    def messages(self) -> list:
        """What it received, oldest first (email.message.Message objects)."""
        import mailbox

        if not self.maildir.exists():
            return []
        box = mailbox.Maildir(self.maildir, create=False)
        # In the order the server received them (a Maildir message's delivery time).
        return sorted(box.values(), key=lambda m: m.get_date())


class WebhookReceiver:
    """A real HTTP receiver (http.server in a thread): records every POST, answers `status`
    (503 for an outage), and checks each body's X-WBM-Signature against `secret`."""

    def __init__(self) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        receiver = self
        self.requests: list[dict] = []
        self.status = 200
        self.secret = ""

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # http.server's name for it
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append(
                    {
                        "path": self.path,
                        "body": body,
                        "headers": dict(self.headers),
                        "signed": receiver.verify(body, self.headers.get("X-WBM-Signature", "")),
                        "answered": receiver.status,
                    }
                )
                self.send_response(receiver.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def verify(self, body: bytes, header: str) -> bool:
        """What a receiver does: HMAC-SHA256 of the raw body with its secret, compared in
        constant time with the header's hex digest."""
        import hashlib
        import hmac

        expected = "sha256=" + hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
        return bool(self.secret) and hmac.compare_digest(expected, header)

    def delivered(self) -> list[dict]:
        """The requests it accepted (answered 2xx)."""
        return [r for r in self.requests if 200 <= r["answered"] < 300]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
