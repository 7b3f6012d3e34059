"""How benchmarks print: figures beside their baselines and targets, and the machine they ran on."""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Iterable
from pathlib import Path


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
