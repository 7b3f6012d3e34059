"""Schedules: 1,000 sites whose backup schedules fall due in the same minute, one worker.

    python -m bench.schedules [--sites 1000] [--backup-seconds 3]

Owners set their nightly backup to the same time ("03:00") far more often than not, so a whole
installation's schedules come due at once. One Celery worker (two processes) and beat serve 1,000
connected sites (made as bench/scale.py makes them) whose backup schedules all fall due at the
same moment; the beat's one schedule tick (sites/engine/schedules.py, every WBM_SCHEDULE_TICK s)
claims them by compare-and-swap and asks for each backup as a click would.

Targets: every schedule runs exactly once (one backup asked per site, none a second time by a
later tick); every backup READY in the mirror within the emulator's backup time plus 60 s of the
moment its schedule fell due (the budget of bench/scale.py); no more than one list call per site
per poll cycle (calls grouped as bench/wix_calls.py groups them).
Baseline, in the same run: the first backup's time from due to READY.
"""

from __future__ import annotations

import argparse
import time
from datetime import timedelta
from typing import Any

from bench import _harness as h
from bench.scale import make_sites
from bench.wix_calls import BACKUPS_PATH, cycles

# The schedules fall due this long after they are written, so the engine is up by then.
LEAD = timedelta(seconds=20)


def list_calls_per_cycle(site_ids: list[Any], poll: float) -> tuple[int, int]:
    """The most list calls one site received in one poll cycle, over all sites; and the calls."""
    from wixemulator.models import EmuRequestLog

    calls: dict[Any, list[tuple[Any, str]]] = {}
    rows = EmuRequestLog.objects.filter(
        site_id__in=site_ids, method="GET", path=BACKUPS_PATH
    ).values_list("site_id", "at", "path")
    for site_id, at, path in rows.order_by("site_id", "at"):
        calls.setdefault(site_id, []).append((at, path))
    most = max((len(cycle) for site in calls.values() for cycle in cycles(site, poll)), default=0)
    return most, sum(len(site) for site in calls.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sites", type=int, default=1000)
    parser.add_argument("--backup-seconds", type=float, default=None, help="default: emulator's")
    args = parser.parse_args(argv)

    stack = h.Stack("schedules").boot()
    from django.conf import settings
    from django.db.models import Count
    from django.utils import timezone

    from sites.models import Operation, Schedule, Site

    backup_seconds = args.backup_seconds or settings.WIXEMULATOR_BACKUP_SECONDS
    report = h.Report("Schedules")
    report.note(
        f"{args.sites} sites, backups take {backup_seconds:g} s; schedule tick "
        f"{settings.WBM_SCHEDULE_TICK:g} s, poll {settings.WBM_POLL_INTERVAL:g} s, sweep "
        f"{settings.WBM_SWEEP_INTERVAL:g} s"
    )
    owner = h.make_owner()
    sites = make_sites(stack, owner, args.sites, backup_seconds)
    # No periodic sync during the run: its list calls are not the schedules' (bench/wix_calls.py).
    Site.objects.filter(pk__in=[s.pk for s in sites]).update(
        next_sync_at=timezone.now() + timedelta(hours=2)
    )
    due = timezone.now() + LEAD
    at = timezone.localtime(due).time().replace(second=0, microsecond=0)
    Schedule.objects.bulk_create(
        [
            Schedule(
                site=site, kind=Schedule.Kind.BACKUP, frequency="daily", at=at, next_run_at=due
            )
            for site in sites
        ]
    )
    stack.start_engine()

    limit = backup_seconds + 60
    site_ids = [site.pk for site in sites]
    scheduled = Operation.objects.filter(
        site__in=site_ids, kind=Operation.Kind.CREATE_BACKUP, via="schedule"
    )
    deadline = time.monotonic() + LEAD.total_seconds() + limit + 240
    while time.monotonic() < deadline:
        ran = Schedule.objects.filter(site__in=site_ids, last_run_at__isnull=False).count()
        running = scheduled.filter(state__in=Operation.RUNNING).count()
        if ran == len(sites) and not running:
            break
        time.sleep(1)
    # A few more ticks: none may run a schedule a second time.
    time.sleep(3 * settings.WBM_SCHEDULE_TICK)

    per_site = dict(
        scheduled.order_by().values("site").annotate(n=Count("pk")).values_list("site", "n")
    )
    runs = [per_site.get(pk, 0) for pk in site_ids]
    done = list(scheduled.filter(state=Operation.State.SUCCEEDED))
    latencies = sorted((op.finished_at - due).total_seconds() for op in done if op.finished_at)
    failed = scheduled.exclude(state=Operation.State.SUCCEEDED).count()

    report.figure(
        "schedules run exactly once",
        sum(1 for n in runs if n == 1),
        f" of {len(sites)}",
        target=f"all {len(sites)}",
        ok=all(n == 1 for n in runs),
        digits=0,
    )
    report.note(
        f"runs per schedule: min {min(runs, default=0)}, max {max(runs, default=0)}; "
        f"{failed} backups not succeeded"
    )
    worst = latencies[-1] if latencies and len(latencies) == len(sites) else float("inf")
    report.figure(
        f"schedule due to READY in the mirror, slowest of {len(sites)}",
        worst,
        " s",
        baseline=latencies[0] if latencies else None,
        baseline_name="the first",
        target=f"at most {limit:g} s",
        ok=worst <= limit,
    )
    if latencies:
        report.note(f"median {h.median(latencies):.1f} s, p90 {h.percentile(latencies, 0.9):.1f} s")
    # The emulator's request log names its own sites (the Wix site ids).
    most, calls = list_calls_per_cycle([s.wix_site_id for s in sites], settings.WBM_POLL_INTERVAL)
    report.note(f"{calls} list calls to the emulator in all ({calls / len(sites):.2f} per site)")
    report.figure(
        "list calls per site per poll cycle, max over all sites",
        most,
        digits=0,
        target="at most 1",
        ok=most <= 1,
    )
    return report.finish()


if __name__ == "__main__":
    h.run(main)
