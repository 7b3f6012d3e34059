"""Child processes and what they use, read from /proc (no psutil needed)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.processes import stop_process_group

ROOT = Path(__file__).resolve().parent.parent


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
