"""Wix calls: list calls per poll cycle with 30 operations in flight on a site; calls per backup.

    python -m bench.wix_calls [--duration 12]

Operators pay for every request to Wix (200 a minute per site at most). The engine promises one
List Backups per site per poll cycle however many operations the site has in flight (plus List
Restorations while a restore runs), and no more calls per backup than its create and the polls
its duration needs. Counted from the emulator's request log, which records every API request.

In flight together, each on its own emulated site, all through the real worker and beat:
- baseline: one backup (calls per cycle with a single operation);
- 30 operations: a backup and 29 deletes (of FAILED backups: they hold no slot, so a site can have
  that many, and deleting them takes the emulator's delete time);
- 30 operations with a restore: a restore, a backup and 28 deletes;
- one backup each on sites whose backups take 3 s, 6 s and the given duration, for calls per backup.

A poll cycle is a burst of list calls to one site; bursts are at least a poll interval apart, so
calls less than half an interval apart belong to one cycle.
"""

from __future__ import annotations

import argparse
import itertools
import math
from datetime import datetime
from typing import Any

from bench import _harness as h

BACKUPS_PATH = "/sandbox/wix-data/v2/backups"
RESTORATIONS_PATH = "/sandbox/wix-data/v2/backups/restorations"
LIST_PATHS = (BACKUPS_PATH, RESTORATIONS_PATH)
IN_FLIGHT = 30


def seed_backups(site_id: str, *, ready: int, failed: int, then_seconds: float) -> None:
    """Backups made on the emulated site at once: `ready` READY ones, then `failed` FAILED ones.

    Afterwards the site's backups take `then_seconds` again.
    """
    from django.db import transaction

    from wixemulator import services as emu

    emu.set_delays(site_id, backup_seconds=0)
    for count, fail_rate in ((ready, 0.0), (failed, 1.0)):
        emu.set_faults(site_id, fail_rate=fail_rate)
        for _ in range(count):
            with transaction.atomic():
                locked = emu.lock_site(site_id)
                emu.create_backup(locked, locked.now())
    emu.set_faults(site_id)
    emu.set_delays(site_id, backup_seconds=then_seconds)


def wait_finished(operation_ids: list[Any], timeout: float) -> list[Any]:
    from sites.models import Operation

    def done() -> list[Operation] | None:
        rows = list(Operation.objects.filter(pk__in=operation_ids))
        return rows if all(op.is_finished for op in rows) else None

    return h.wait_for(done, timeout, interval=0.25, what=f"{len(operation_ids)} operations")


def list_calls(site_id: str, start: datetime, end: datetime) -> list[tuple[datetime, str]]:
    from wixemulator.models import EmuRequestLog

    return list(
        EmuRequestLog.objects.filter(
            site_id=site_id, method="GET", path__in=LIST_PATHS, at__gte=start, at__lte=end
        )
        .order_by("at")
        .values_list("at", "path")
    )


def all_calls(site_id: str, start: datetime, end: datetime) -> int:
    from wixemulator.models import EmuRequestLog

    return EmuRequestLog.objects.filter(site_id=site_id, at__gte=start, at__lte=end).count()


def cycles(calls: list[tuple[datetime, str]], poll: float) -> list[list[tuple[datetime, str]]]:
    """Group list calls into poll cycles: a gap of half a poll interval starts a new one."""
    groups: list[list[tuple[datetime, str]]] = []
    for call in calls:
        if groups and (call[0] - groups[-1][-1][0]).total_seconds() < poll / 2:
            groups[-1].append(call)
        else:
            groups.append([call])
    return groups


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=12.0, help="emulated work time (s)")
    args = parser.parse_args(argv)
    duration = args.duration

    # No periodic sync during the run: its calls are not caused by the operations counted here.
    stack = h.Stack("wix_calls", env={"WBM_SYNC_INTERVAL": "3600"}).boot()
    from django.conf import settings

    from sites import engine
    from sites.models import Backup, Operation

    report = h.Report("Wix calls")
    poll = settings.WBM_POLL_INTERVAL
    report.note(
        f"poll interval {poll:g} s, sweep interval {settings.WBM_SWEEP_INTERVAL:g} s, "
        f"operations take {duration:g} s on the emulator"
    )
    owner = h.make_owner()

    def connect(name: str, seconds: float) -> tuple[Any, Any]:
        return h.connect_emulated(
            owner,
            stack,
            name=name,
            backup_seconds=seconds,
            restore_seconds=seconds,
            delete_seconds=seconds,
        )

    single, _ = connect("one backup", duration)
    many, many_creds = connect("30 operations", duration)
    restoring, restoring_creds = connect("30 operations with a restore", duration)
    seed_backups(many_creds.site_id, ready=0, failed=IN_FLIGHT - 1, then_seconds=duration)
    seed_backups(restoring_creds.site_id, ready=1, failed=IN_FLIGHT - 2, then_seconds=duration)
    for site in (many, restoring):
        engine.site_refresh(site_id=site.pk, full=True)  # the seeded backups into the mirror
    per_backup_sites = [
        (connect(f"backup of {s:g} s", s)[0], s) for s in sorted({3.0, 6.0, duration})
    ]

    stack.start_engine()
    started = datetime.now().astimezone()
    request = engine.operation_request
    ops: dict[str, list[Any]] = {
        "baseline": [request(site=single, kind=Operation.Kind.CREATE_BACKUP, user=owner)],
        "many": [request(site=many, kind=Operation.Kind.CREATE_BACKUP, user=owner)],
        "restoring": [],
    }
    ready = restoring.backups.get(status=Backup.READY).wix_id
    ops["restoring"].append(
        request(site=restoring, kind=Operation.Kind.RESTORE, user=owner, backup_wix_id=ready)
    )
    ops["restoring"].append(request(site=restoring, kind=Operation.Kind.CREATE_BACKUP, user=owner))
    for site, key in ((many, "many"), (restoring, "restoring")):
        for backup in site.backups.filter(status=Backup.FAILED):
            ops[key].append(
                request(
                    site=site,
                    kind=Operation.Kind.DELETE_BACKUP,
                    user=owner,
                    backup_wix_id=backup.wix_id,
                )
            )
    timed = [
        (request(site=site, kind=Operation.Kind.CREATE_BACKUP, user=owner), seconds)
        for site, seconds in per_backup_sites
    ]
    assert len(ops["many"]) == len(ops["restoring"]) == IN_FLIGHT
    everything = [op.pk for group in ops.values() for op in group] + [op.pk for op, _ in timed]
    finished = {op.pk: op for op in wait_finished(everything, timeout=duration * 4 + 120)}
    ended = datetime.now().astimezone()
    failed = [op for op in finished.values() if op.state != Operation.State.SUCCEEDED]
    for op in failed:
        report.note(f"operation {op.kind} failed: {op.error}")

    # --- Calls per poll cycle ------------------------------------------------------------------
    per_cycle: dict[str, tuple[float, int, float]] = {}
    for key, site in (("baseline", single), ("many", many), ("restoring", restoring)):
        groups = cycles(list_calls(site.wix_site_id, started, ended), poll)
        sizes = [len(g) for g in groups]
        gaps = [
            (b[0][0] - a[0][0]).total_seconds() for a, b in itertools.pairwise(groups) if a and b
        ]
        per_cycle[key] = (sum(sizes) / len(sizes), max(sizes), h.median(gaps))
    base_mean, base_max, base_gap = per_cycle["baseline"]
    report.figure(
        "list calls per cycle, 1 operation in flight (baseline)",
        base_mean,
        target="1 per site per cycle",
        ok=base_max <= 1,
    )
    mean, most, _ = per_cycle["many"]
    report.figure(
        f"list calls per cycle, {IN_FLIGHT} operations in flight (max {most})",
        mean,
        baseline=base_mean,
        target="1 per site per cycle",
        ok=most <= 1,
    )
    report.note(f"(polling each operation on its own would make {IN_FLIGHT} per cycle)")
    mean, most, _ = per_cycle["restoring"]
    report.figure(
        f"list calls per cycle, {IN_FLIGHT} operations in flight with a restore (max {most})",
        mean,
        baseline=base_mean,
        target="2 per site per cycle while a restore runs",
        ok=most <= 2,
    )
    report.figure(
        "time between poll cycles (median)", base_gap, " s", baseline=poll, baseline_name="poll"
    )
    for key, site in (("many", many), ("restoring", restoring)):
        group = ops[key]
        start = min(op.created_at for op in group)
        end = max(finished[op.pk].finished_at for op in group)
        calls = all_calls(site.wix_site_id, start, end)
        report.note(
            f"{key}: {calls} calls in all for {len(group)} operations over "
            f"{(end - start).total_seconds():.1f} s ({calls / len(group):.2f} per operation)"
        )

    # --- Calls per completed backup ------------------------------------------------------------
    for op, seconds in timed:
        done = finished[op.pk]
        calls = all_calls(done.site.wix_site_id, done.created_at, done.finished_at)
        needed = math.ceil(seconds / poll)
        report.figure(
            f"calls for one backup taking {seconds:g} s",
            calls,
            digits=0,
            baseline=needed,
            baseline_name="polls its duration needs",
            target=f"at most 2 + {needed}",
            ok=calls <= 2 + needed and done.state == Operation.State.SUCCEEDED,
        )
    if failed:
        report.figure("operations that failed", len(failed), digits=0, target="0", ok=False)
    return report.finish()


if __name__ == "__main__":
    h.run(main)
