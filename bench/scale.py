"""Scale: 1,000 emulated sites with one backup each in flight, one worker.

    python -m bench.scale [--sites 1000] [--backup-seconds 3]

Operators pay for every worker. One Celery worker (two processes, as in the tests; this machine
has 2 CPUs) and beat serve 1,000 connected sites, each asking for a backup at once (as a nightly
"back up all my shops" script would), while the emulator answers as Wix and rate-limits as Wix
(200 requests a minute per site). The sites' periodic syncs are spread over the sync interval as
they are after the first one, so the worker does that work too.

Baseline, in the same run and on the same worker: one site's backup on an idle engine.
Targets: every backup READY in the mirror within the emulator's backup time plus 60 s of its
request; no 429 from the emulator; worker memory (RSS of the worker's process tree) under 300 MB;
the worker's CPU per completed backup at most 20 ms, printed beside a plain `requests.Session`
loop in this process making the same Wix calls per backup (create, then list) against the
emulator after the batch.
A backup's time is its operation's `finished_at`, written in the refresh that put READY in the
mirror, just after it.
"""

from __future__ import annotations

import argparse
import os
import random
import time
from datetime import timedelta
from typing import Any

from bench import _harness as h

MEMORY_LIMIT = 300 * 2**20


def make_sites(stack: h.Stack, owner: Any, count: int, backup_seconds: float) -> list[Any]:
    """`count` emulated sites and the product's Site for each, written in bulk."""
    from django.conf import settings
    from django.db import transaction
    from django.utils import timezone

    from sites import crypto
    from sites.models import Site
    from wixemulator import services as emu
    from wixemulator.models import EmuApiKey, EmuSite

    app = emu.default_app()
    now = timezone.now()
    with transaction.atomic():
        emu_sites = EmuSite.objects.bulk_create(
            [EmuSite(name=f"Shop {n:04d}", app=app, backup_seconds=backup_seconds)
             for n in range(count)]
        )  # fmt: skip
        keys = EmuApiKey.objects.bulk_create(
            [EmuApiKey(key=emu.new_api_key(), site=s) for s in emu_sites]
        )
        sync = settings.WBM_SYNC_INTERVAL
        return Site.objects.bulk_create(
            [
                Site(
                    owner=owner,
                    name=s.name,
                    wix_site_id=str(s.site_id),
                    secret_encrypted=crypto.encrypt(key.key),
                    secret_hint=key.key[-4:],
                    api_base_url=stack.emulator_url,
                    last_synced_at=now,
                    # The Wix backup engine is measured here; snapshots in bench/snapshot.py.
                    snapshot_with_backup=False,
                    # Periodic syncs spread over the interval, as after each site's first sync.
                    next_sync_at=now + timedelta(seconds=random.uniform(0, sync)),
                )
                for s, key in zip(emu_sites, keys, strict=True)
            ]
        )


def plain_calls_cpu_ms(stack: h.Stack, sites: list[Any], calls_per_backup: float) -> float:
    """CPU milliseconds of this process per backup for a bare requests.Session loop: one create
    and one list per site, scaled to the engine's calls per backup."""
    import requests

    from sites import crypto

    url = stack.emulator_url + "/wix-data/v2/backups"
    with requests.Session() as session:
        started = time.process_time()
        for site in sites:
            headers = {
                "Authorization": crypto.decrypt(site.secret_encrypted),
                "wix-site-id": site.wix_site_id,
            }
            session.post(url, json={}, headers=headers, timeout=30).raise_for_status()
            session.get(url, params={"paging.limit": 1000}, headers=headers, timeout=30)
        used = time.process_time() - started
    return used / max(len(sites), 1) / 2 * calls_per_backup * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sites", type=int, default=1000)
    parser.add_argument("--backup-seconds", type=float, default=None, help="default: emulator's")
    args = parser.parse_args(argv)

    stack = h.Stack("scale").boot()
    from django.conf import settings
    from django.db.models import Count

    from sites import engine
    from sites.models import Operation
    from wixemulator.models import EmuRequestLog

    backup_seconds = args.backup_seconds or settings.WIXEMULATOR_BACKUP_SECONDS
    report = h.Report("Scale")
    report.note(
        f"{args.sites} sites, backups take {backup_seconds:g} s; poll interval "
        f"{settings.WBM_POLL_INTERVAL:g} s, sweep {settings.WBM_SWEEP_INTERVAL:g} s, "
        f"sync every {settings.WBM_SYNC_INTERVAL} s; gunicorn {stack.web_workers} workers"
    )
    owner = h.make_owner()
    solo = make_sites(stack, owner, 1, backup_seconds)[0]
    sites = make_sites(stack, owner, args.sites, backup_seconds)
    stack.start_engine()
    idle = stack.worker_memory()

    def wait_all(ids: list[Any], timeout: float, sample: list[h.Memory]) -> list[Operation]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            sample.append(stack.worker_memory())
            rows = list(Operation.objects.filter(pk__in=ids).only("state"))
            if all(op.is_finished for op in rows):
                break
            time.sleep(0.5)
        return list(Operation.objects.filter(pk__in=ids))

    # Baseline: one backup on the idle engine.
    memory: list[h.Memory] = []
    op = engine.operation_request(site=solo, kind=Operation.Kind.CREATE_BACKUP, user=owner)
    (op,) = wait_all([op.pk], 60 + backup_seconds, memory)
    solo_latency = (op.finished_at - op.created_at).total_seconds() if op.finished_at else 1e9

    def cpu() -> dict[str, float]:
        assert stack.worker is not None and stack.worker.process and stack.web
        return {
            "worker": h.tree_cpu_seconds(stack.worker.process.pid),
            "emulator (gunicorn)": h.tree_cpu_seconds(stack.web.pid),
            "PostgreSQL": h.database_cpu_seconds(stack.db_name),
            "this process (the clicks)": sum(os.times()[:2]),
        }

    cpu_before = cpu()
    started = time.monotonic()
    ops = [
        engine.operation_request(site=site, kind=Operation.Kind.CREATE_BACKUP, user=owner)
        for site in sites
    ]
    report.note(f"{len(ops)} backups requested in {time.monotonic() - started:.1f} s")
    limit = backup_seconds + 60
    done = wait_all([o.pk for o in ops], limit + 240, memory)
    makespan = time.monotonic() - started
    cpu_used = {k: v - cpu_before[k] for k, v in cpu().items()}
    latencies = [
        (o.finished_at - o.created_at).total_seconds()
        for o in done
        if o.state == Operation.State.SUCCEEDED and o.finished_at
    ]
    failed = [o for o in done if o.state != Operation.State.SUCCEEDED]
    statuses = dict(EmuRequestLog.objects.values_list("status").annotate(n=Count("pk")).order_by())
    requests = sum(statuses.values())
    peak_rss = max(m.rss for m in memory)
    peak_pss = max(m.pss for m in memory)

    report.figure(
        "backup request to READY in the mirror, median",
        h.median(latencies),
        " s",
        baseline=solo_latency,
        baseline_name="one site on an idle engine",
    )
    worst = max(latencies, default=float("inf")) if not failed else float("inf")
    report.figure(
        f"backup request to READY in the mirror, slowest of {len(ops)}",
        worst,
        " s",
        baseline=backup_seconds,
        baseline_name="emulator's backup time",
        target=f"at most {limit:g} s",
        ok=worst <= limit,
    )
    report.note(
        f"p90 {h.percentile(latencies, 0.9):.1f} s; all done {makespan:.1f} s after the first "
        f"request; {len(failed)} not succeeded"
    )
    for o in failed[:5]:
        report.note(f"  {o.state}: {o.error}")
    report.figure(
        "429 answers from the emulator", statuses.get(429, 0), digits=0, target="0",
        ok=statuses.get(429, 0) == 0,
    )  # fmt: skip
    report.note(
        f"{requests} requests to the emulator in all ({requests / max(len(ops), 1):.2f} per "
        f"backup), by status: {dict(sorted(statuses.items()))}"
    )
    report.figure(
        "worker memory, peak RSS of its process tree",
        peak_rss / 2**20,
        " MB",
        baseline=idle.rss / 2**20,
        baseline_name="idle",
        target="under 300 MB",
        ok=peak_rss < MEMORY_LIMIT,
        digits=0,
    )
    report.note(
        f"proportional set size (shared pages counted once): peak {peak_pss / 2**20:.0f} MB, "
        f"idle {idle.pss / 2**20:.0f} MB; {idle.processes} processes"
    )
    per_backup = cpu_used["worker"] / max(len(ops) - len(failed), 1) * 1000
    # Made after the batch was measured, so the engine's CPU above holds none of their syncs.
    plain = make_sites(stack, owner, min(args.sites, 200), backup_seconds)
    report.figure(
        "worker CPU per completed backup",
        per_backup,
        " ms",
        baseline=plain_calls_cpu_ms(stack, plain, requests / max(len(ops), 1)),
        baseline_name="a requests.Session loop making the same Wix calls",
        target="at most 20 ms",
        ok=per_backup <= 20,
    )
    report.note(
        "CPU seconds for the batch: "
        + ", ".join(f"{k} {v:.1f}" for k, v in cpu_used.items())
        + f" (machine: {makespan * (os.cpu_count() or 1):.0f} CPU seconds in the wall time)"
    )
    return report.finish()


if __name__ == "__main__":
    h.run(main)
