"""What the snapshot benchmarks share (bench/snapshot.py, bench/preview.py): their stack and
store, emulated sites filled with the demo collections, the paging baseline, 1% of the items
changed as an owner would, and the worker's peak memory.

Django is imported inside the functions: the stack's `boot()` sets it up first.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from bench import _harness as h

# Items per page of the paging baseline (the Data API's largest).
PAGE = 1000


def snapshot_stack(name: str) -> tuple[h.Stack, Path]:
    """A booted stack with its engine, and the folder store of the run's own (removed after a
    clean run, as the logs are). The emulator's per-site rate limit is lifted: the paging
    baseline and the snapshots read the same site within a minute, and a 429 would time Wix's
    limit, not our work."""
    stack = h.Stack(name=name, web_workers=2)
    workdir = stack.workdir / "snapshots"
    stack.env = {
        "WBM_SNAPSHOT_STORAGE": str(workdir),
        "WIXEMULATOR_RATE_LIMIT": "1000000",
        "WIX_READ_TIMEOUT": "120",
    }
    stack.boot()
    stack.start_engine()
    return stack, workdir


def connect_filled(owner: Any, stack: h.Stack, name: str, items: int) -> tuple[Any, Any]:
    """An emulated site with the demo collections and `items` more, connected for `owner`."""
    from wixemulator import demo
    from wixemulator.models import EmuSite

    site, creds = h.connect_emulated(owner, stack, name=name)
    emulated = EmuSite.objects.get(site_id=creds.site_id)
    demo.fill(emulated)
    if items:
        demo.add_items(emulated, items)
    return site, creds


class Pager:
    """This process paging through a site's collections with `WixDataClient.iter_items` (pages
    of PAGE) and discarding the items: the baseline of a snapshot's or a preview's time."""

    def __init__(self, stack: h.Stack, creds: Any) -> None:
        from wixapi import ApiKeyAuth, WixDataClient

        self.client = WixDataClient(
            stack.emulator_url,
            ApiKeyAuth(api_key=creds.api_key, site_id=creds.site_id),
            read_timeout=120,
        )
        self.collections = list(self.client.iter_collections())

    def page_through(self) -> tuple[float, int]:
        """Seconds taken, and how many items were read."""
        started = time.perf_counter()
        seen = 0
        for collection in self.collections:
            size = min(PAGE, collection.max_page_size or PAGE)
            for item in self.client.iter_items(collection.id, page_size=size):
                seen += bool(item.id)
        return time.perf_counter() - started, seen

    def close(self) -> None:
        self.client.close()


def change_one_percent(site_id: Any, items: int) -> int:
    """Change `items // 100` items spread over every native collection of the emulated site, as
    an owner's edits would be (Wix Stores' products are read-only through the Data API); how
    many were changed."""
    from django.utils import timezone

    from wixemulator.models import EmuItem

    changed = list(
        EmuItem.objects.filter(collection__site__site_id=site_id)
        .exclude(collection__collection_id="Stores/Products")
        .order_by("?")[: items // 100]
    )
    now = timezone.now().isoformat()
    for item in changed:
        item.data = {**item.data, "benchEditedAt": now}
    EmuItem.objects.bulk_update(changed, ["data"], batch_size=1000)
    return len(changed)


class PeakMemory:
    """The worker tree's peak PSS while the block runs, sampled in a thread."""

    def __init__(self, stack: h.Stack) -> None:
        self.stack = stack
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.stack.worker_memory().pss)
            self._stop.wait(0.1)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
