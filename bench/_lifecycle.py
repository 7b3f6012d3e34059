"""A benchmark's life: cleanups run however it ends (exception, Ctrl-C, SIGTERM), and its exit
status is its report's (non-zero when a target was missed)."""

from __future__ import annotations

import atexit
import shutil
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

_cleanups: list[Callable[[], None]] = []
# Working directories (logs of the web server, worker and beat): removed after a clean run, kept
# for reading after a failure.
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
