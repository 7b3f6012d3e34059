"""HTTP load with Debian's wrk, installed when missing (as root)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass


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
