"""Snapshots: time, worker memory, dedup, download and Wix calls of snapshots taken by the worker.

    python -m bench.snapshot [--items 100000] [--small 10000] [--only download] [--rounds 2]

An emulated site with the demo collections and `--items` more items (5 collections: 4 native,
plus Wix Stores' 40 products in pages of 100), and one with `--small` more; a Celery worker
(two processes, both queues, as the tests run it) takes every snapshot through the engine
(`engine.snapshot_request`), into a folder store of the run's own. Figures, each beside its
baseline measured in the same run:

- time of a snapshot of the large site, from the request to the operation's end, against this
  process paging through the same collections with `WixDataClient.iter_items` (pages of 1000)
  and discarding the items (the median of a read before and one after the snapshot);
- the worker's peak memory (PSS of its process tree, sampled every 0.1 s) while it snapshots
  the small and the large site, above its idle memory (measured after a warm-up snapshot of a
  demo site, so imports and connections are counted in the idle figure);
- new bytes in the store (its folder's size, manifest included) of a second snapshot of
  unchanged data, and of a third after 1% of the items changed, against the first's bytes;
- the zip download of the large snapshot (`export_zip`, every chunk read and dropped), against
  reading each object the manifest names alone; the tracemalloc peak of the download for the
  small and the large snapshot (constant memory: the same for both);
- the Data API calls of the first snapshot against Σ ⌈items / page size⌉ plus the one
  collections-list call (the schemas come with it).

`--only download` takes the large site's snapshot and measures the zip download's time alone
(no warm-up, small site, memory, dedup or call figures): a quick loop while working on the
export. `--rounds` is how many times the download and its baseline are each timed (alternately;
the medians are compared).

The emulator's per-site rate limit (200 a minute, as Wix's) is lifted for the run: the paging
baseline and the snapshots read the same site within a minute, and a 429 would time Wix's
limit, not our work.
"""

from __future__ import annotations

import argparse
import math
import time
import tracemalloc
from pathlib import Path
from typing import Any

from bench import _harness as h
from bench._snapshot_data import (
    PAGE,
    Pager,
    PeakMemory,
    change_one_percent,
    connect_filled,
    snapshot_stack,
)


def folder_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--only", choices=["download"], help="measure this figure alone")
    parser.add_argument(
        "--rounds", type=int, default=2, help="timings of the download and its baseline"
    )
    args = parser.parse_args()
    report = h.Report(f"Snapshots of {args.items:,} and {args.small:,} items")
    stack, workdir = snapshot_stack("snapshot")

    from sites import engine
    from sites.models import Operation, Snapshot
    from sites.snapshots import PackReader, export_zip, manifest_entries, read_manifest
    from wixemulator.models import EmuRequestLog

    owner = h.make_owner()

    def snapshot(site: Any) -> tuple[Snapshot, float]:
        started = time.perf_counter()
        operation = engine.snapshot_request(site=site, user=owner)
        done = h.wait_for(
            lambda: Operation.objects.filter(pk=operation.pk, finished_at__isnull=False).first(),
            3600,
            interval=0.05,
            what="the snapshot",
        )
        elapsed = time.perf_counter() - started
        if done.state != Operation.State.SUCCEEDED:
            raise SystemExit(f"snapshot failed: {done.error}")
        return Snapshot.objects.get(operation=operation), elapsed

    def read_objects(snap: Snapshot) -> tuple[float, float]:
        """Wall time and this process's CPU time of reading every item the manifest names."""
        started, cpu = time.perf_counter(), time.process_time()
        store = engine.site_store(snap.site_id)
        manifest = read_manifest(store, snap.storage_id)
        reader = PackReader(store.backend)
        for entry in manifest_entries(store, manifest):
            reader.item(entry)
        return time.perf_counter() - started, time.process_time() - cpu

    def download(snap: Snapshot) -> tuple[float, float, int]:
        """Wall time, CPU time and size of the zip, every chunk read and dropped."""
        started, cpu = time.perf_counter(), time.process_time()
        size = sum(
            len(chunk) for chunk in export_zip(engine.site_store(snap.site_id), snap.storage_id)
        )
        return time.perf_counter() - started, time.process_time() - cpu, size

    def download_times(snap: Snapshot) -> tuple[float, float, int]:
        """Median times of the zip and of reading the objects alone (timed alternately, so
        a burst of load elsewhere falls on both), and the zip's size. Each round's CPU times
        are printed too: on a loaded machine they move less than the wall times."""
        zips, reads = [], []
        for number in range(1, args.rounds + 1):
            read, read_cpu = read_objects(snap)
            took, took_cpu, size = download(snap)
            report.note(
                f"round {number}: zip {took:.2f} s, objects alone {read:.2f} s"
                f" ({took / read:.2f}x);"
                f" CPU {took_cpu:.2f} s against {read_cpu:.2f} s ({took_cpu / read_cpu:.2f}x)"
            )
            zips.append(took)
            reads.append(read)
        return h.median(zips), h.median(reads), size

    def download_peak(snap: Snapshot) -> int:
        tracemalloc.start()
        try:
            download(snap)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    def download_figure(zip_time: float, objects_alone: float, zip_bytes: int) -> None:
        report.figure(
            "zip download",
            zip_time,
            " s",
            baseline=objects_alone,
            baseline_name="reading the objects alone",
            target="at most 1.5x",
            ok=zip_time <= 1.5 * objects_alone,
        )
        report.note(f"zip of {zip_bytes / (1024 * 1024):.1f} MB")

    if args.only == "download":
        large, _ = connect_filled(owner, stack, "Large", args.items)
        first, took = snapshot(large)
        report.note(f"snapshot of {first.item_count:,} items taken in {took:.1f} s")
        download_figure(*download_times(first))
        return report.finish()

    t0 = time.perf_counter()
    warm, _ = connect_filled(owner, stack, "Warm-up", 0)
    large, large_creds = connect_filled(owner, stack, "Large", args.items)
    small, _ = connect_filled(owner, stack, "Small", args.small)
    report.note(f"sites made in {time.perf_counter() - t0:.1f} s")

    snapshot(warm)  # imports, connections, the first task: part of what idle means here
    idle = stack.worker_memory().pss

    pager = Pager(stack, large_creds)
    baseline_before, items = pager.page_through()
    queries = EmuRequestLog.objects.filter(site__site_id=large_creds.site_id, status=200)
    calls_before = {
        "query": queries.filter(path__endswith="/items/query").count(),
        "list": queries.filter(path__endswith="/v2/collections").count(),
    }
    with PeakMemory(stack) as large_memory:
        first, took = snapshot(large)
    calls = {
        "query": queries.filter(path__endswith="/items/query").count() - calls_before["query"],
        "list": queries.filter(path__endswith="/v2/collections").count() - calls_before["list"],
    }
    baseline_after, _ = pager.page_through()
    pager.close()
    baseline = h.median([baseline_before, baseline_after])
    with PeakMemory(stack) as small_memory:
        small_snapshot, _ = snapshot(small)

    store_root = workdir / "sites" / str(large.pk)
    first_bytes = folder_bytes(store_root)
    second, _ = snapshot(large)
    second_bytes = folder_bytes(store_root) - first_bytes

    changed = change_one_percent(large_creds.site_id, items)
    before_third = folder_bytes(store_root)
    third, _ = snapshot(large)
    third_bytes = folder_bytes(store_root) - before_third

    zip_time, objects_alone, zip_bytes = download_times(first)
    zip_peak_small = download_peak(small_snapshot)
    zip_peak_large = download_peak(first)

    mb = 1024 * 1024
    pages = sum(
        math.ceil(
            c["items"]
            / min(PAGE, next(x.max_page_size or PAGE for x in pager.collections if x.id == c["id"]))
        )
        or 1
        for c in first.collections
    )
    report.note(
        f"{items:,} items in {len(pager.collections)} collections; first snapshot stored "
        f"{first_bytes / mb:.1f} MB ({first.new_objects:,} objects)"
    )
    report.figure(
        "snapshot time",
        took,
        " s",
        baseline=baseline,
        baseline_name="paging and discarding",
        target="at most 1.25x",
        ok=took <= 1.25 * baseline,
    )
    large_above = (large_memory.peak - idle) / mb
    small_above = (small_memory.peak - idle) / mb
    report.figure(
        f"worker peak above idle, {args.small:,} items",
        small_above,
        " MB",
        target="under 100 MB",
        ok=small_above < 100,
    )
    report.figure(
        f"worker peak above idle, {items:,} items",
        large_above,
        " MB",
        baseline=small_above,
        baseline_name=f"{args.small:,} items",
        target="under 100 MB, the same as the small one (within 20 MB)",
        ok=large_above < 100 and abs(large_above - small_above) <= 20,
    )
    report.note(f"idle worker: {idle / mb:.1f} MB PSS over its processes")
    report.figure(
        "new bytes, second snapshot of unchanged data",
        second_bytes / 1024,
        " KB",
        baseline=first_bytes / 1024,
        baseline_name="first snapshot",
        target="under 1%",
        ok=second_bytes < 0.01 * first_bytes,
    )
    report.figure(
        f"new bytes after 1% changed ({changed:,} items)",
        third_bytes / 1024,
        " KB",
        baseline=first_bytes / 1024,
        baseline_name="first snapshot",
        target="at most 3%",
        ok=third_bytes <= 0.03 * first_bytes,
    )
    download_figure(zip_time, objects_alone, zip_bytes)
    report.figure(
        f"zip download memory, {items:,} items (tracemalloc peak)",
        zip_peak_large / mb,
        " MB",
        baseline=zip_peak_small / mb,
        baseline_name=f"{args.small:,} items",
        target="constant (at most 1.5x the small one)",
        ok=zip_peak_large <= 1.5 * zip_peak_small,
    )
    report.figure(
        "Wix calls of one snapshot",
        calls["query"] + calls["list"],
        digits=0,
        baseline=pages + 1,
        baseline_name="pages + one collections list",
        target="equal",
        ok=calls["query"] == pages and calls["list"] == 1,
    )
    report.note(f"second and third snapshots: {second.item_count:,} and {third.item_count:,} items")
    return report.finish()


if __name__ == "__main__":
    h.run(main)
