"""Restore previews: time and worker memory of a preview, and the cost of its item list's pages.

    python -m bench.preview [--items 100000]

An emulated site with the demo collections and `--items` more items (5 collections, as
bench/snapshot.py makes them); a Celery worker (two processes, both queues, as the tests run it)
takes a snapshot of it through the engine, then 1% of the items are changed (spread over the
native collections, as an owner's edits would be) and a preview of a restore from that snapshot
is asked (`engine.preview_request`): the worker reads the live data as a snapshot (its parent
the first) and compares the two. Figures, each beside its baseline measured in the same run:

- time of the preview, from the request to the operation's end, against this process paging
  through the same collections with `WixDataClient.iter_items` (pages of 1000) and discarding
  the items (the median of a read before and one after the preview);
- the worker's peak memory (PSS of its process tree, sampled every 0.1 s) during the preview,
  above its idle memory (measured after a warm-up snapshot and preview of a demo site);
- the item list's page (`/sites/…/previews/…/items/`) of a count of 10,000 changed items, first
  and last page: the median time over HTTP from gunicorn, alternating with the bare view (same
  middleware and login) as bench/page_speed.py does, 40 rounds; and its queries (Django's test
  client in this process), against the same page of a count of 10.

The emulator's per-site rate limit is lifted for the run, as in bench/snapshot.py.
"""

from __future__ import annotations

import argparse
import time
from typing import Any
from urllib.parse import urlencode

from bench import _harness as h
from bench._snapshot_data import (
    Pager,
    PeakMemory,
    change_one_percent,
    connect_filled,
    snapshot_stack,
)
from bench.page_speed import timed_get

LIST_ITEMS = 10_000
ROUNDS = 40


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    args = parser.parse_args()
    report = h.Report(f"Restore preview of {args.items:,} items")
    stack, _ = snapshot_stack("preview")

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from sites import engine
    from sites.models import Operation, Preview, PreviewChange, Snapshot

    owner = h.make_owner()

    def finished(operation_id: Any, what: str) -> Operation:
        done = h.wait_for(
            lambda: Operation.objects.filter(pk=operation_id, finished_at__isnull=False).first(),
            3600,
            interval=0.05,
            what=what,
        )
        if done.state != Operation.State.SUCCEEDED:
            raise SystemExit(f"{what} failed: {done.error}")
        return done

    def snapshot(site: Any) -> Snapshot:
        operation = engine.snapshot_request(site=site, user=owner)
        finished(operation.pk, "the snapshot")
        return Snapshot.objects.get(operation=operation)

    def preview(site: Any, source: Snapshot) -> tuple[Preview, float]:
        started = time.perf_counter()
        asked = engine.preview_request(site=site, source=source, user=owner)
        finished(asked.operation_id, "the preview")
        elapsed = time.perf_counter() - started
        asked.refresh_from_db()
        return asked, elapsed

    t0 = time.perf_counter()
    warm, _ = connect_filled(owner, stack, "Warm-up", 0)
    large, creds = connect_filled(owner, stack, "Large", args.items)
    report.note(f"sites made in {time.perf_counter() - t0:.1f} s")
    preview(warm, snapshot(warm))  # imports, connections, first tasks: part of "idle" here
    idle = stack.worker_memory().pss

    source = snapshot(large)
    changed = change_one_percent(creds.site_id, source.item_count)
    pager = Pager(stack, creds)
    baseline_before, _ = pager.page_through()
    with PeakMemory(stack) as memory:
        done, took = preview(large, source)
    baseline_after, _ = pager.page_through()
    pager.close()
    baseline = h.median([baseline_before, baseline_after])
    reverts = sum(row.revert for row in done.counts.all())
    # Where the time went: reading the live data (a snapshot), then comparing.
    reading = Snapshot.objects.get(pk=done.live_id)
    report.note(
        f"live reading {(reading.finished_at - reading.started_at).total_seconds():.1f} s, "
        f"comparing and writing {(done.finished_at - reading.finished_at).total_seconds():.1f} s "
        f"({done.changes.count():,} changes)"
    )

    # The item list: a count of 10,000 and one of 10 (rows written directly: only their number
    # matters here), fetched as the owner through the test client.
    browser = Client(HTTP_HOST="127.0.0.1")
    browser.force_login(owner)
    lists = {}
    for size in (10, LIST_ITEMS):
        listed = Preview.objects.create(
            site=large, source=source, live=source, collections=["Products"]
        )
        listed.counts.create(position=0, collection_id="Products", revert=size)
        PreviewChange.objects.bulk_create(
            (
                PreviewChange(
                    preview=listed,
                    collection_id="Products",
                    item_id=f"item-{n:06}",
                    kind="revert",
                    position=n,
                )
                for n in range(size)
            ),
            batch_size=2000,
        )
        lists[size] = reverse("sites:preview_items", args=[large.pk, listed.pk])
    bare = reverse("bench-bare")

    cookie = browser.cookies["sessionid"].value

    def queries_of(url: str, params: dict[str, Any]) -> int:
        with CaptureQueriesContext(connection) as queries:
            answer = browser.get(url, params)
        if answer.status_code != 200:
            raise SystemExit(f"{url} answered {answer.status_code}")
        return len(queries)

    first = {"collection": "Products", "kind": "revert", "page": 1}
    last = {**first, "page": 10**6}
    small_queries = queries_of(lists[10], first)
    first_queries = queries_of(lists[LIST_ITEMS], first)
    last_queries = queries_of(lists[LIST_ITEMS], last)
    # Timed over HTTP from gunicorn, alternating with the bare view (as bench/page_speed.py).
    paths = {
        "bare": bare,
        # For scale: the simplest page of the product (a form, no list), drawn by the same base.
        "account": reverse("sites:account"),
        "small": f"{lists[10]}?{urlencode(first)}",
        "first": f"{lists[LIST_ITEMS]}?{urlencode(first)}",
        "last": f"{lists[LIST_ITEMS]}?{urlencode(last)}",
    }
    times: dict[str, list[float]] = {name: [] for name in paths}
    for round_number in range(ROUNDS + 5):
        for name, path in paths.items():
            seconds, status, _ = timed_get(stack.web_port, path, cookie)
            if status != 200:
                raise SystemExit(f"{path}: HTTP {status}")
            if round_number >= 5:  # warming up templates, connections and caches
                times[name].append(seconds)
    bare_time, account_time, small_time, first_time, last_time = (h.median(times[n]) for n in paths)

    mb = 1024 * 1024
    report.note(
        f"{source.item_count:,} items in {len(pager.collections)} collections, "
        f"{changed:,} changed; the preview found {reverts:,} changed"
    )
    report.figure(
        f"preview time, 1% of {source.item_count:,} items changed",
        took,
        " s",
        baseline=baseline,
        baseline_name="paging and discarding the live items",
        target="at most 1.5x",
        ok=took <= 1.5 * baseline and reverts == changed,
    )
    above = (memory.peak - idle) / mb
    report.figure(
        "worker peak above idle during the preview",
        above,
        " MB",
        target="under 150 MB",
        ok=above < 150,
    )
    report.note(f"idle worker: {idle / mb:.1f} MB PSS over its processes")
    for name, spent, queries in (
        ("first", first_time, first_queries),
        ("last", last_time, last_queries),
    ):
        report.figure(
            f"item list, {LIST_ITEMS:,} changed items, {name} page",
            spent * 1000,
            " ms",
            baseline=bare_time * 1000,
            baseline_name="bare view",
            target="at most 3x",
            ok=spent <= 3 * bare_time,
        )
        report.figure(
            f"item list queries, {LIST_ITEMS:,} changed items, {name} page",
            queries,
            digits=0,
            baseline=small_queries,
            baseline_name="a count of 10",
            target="equal",
            ok=queries == small_queries,
        )
    report.note(
        f"a count of 10: {small_time * 1000:.1f} ms; the account page (a form, no list): "
        f"{account_time * 1000:.1f} ms ({account_time / bare_time:.2f}x the bare view)"
    )
    return report.finish()


if __name__ == "__main__":
    h.run(main)
