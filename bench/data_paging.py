"""Data paging: the client's memory while it reads 100,000 items by cursor, one page at a time.

    python -m bench.data_paging [--items 100000]

`WixDataClient.iter_items` promises to hold one page (at most 1000 items) whatever the size of
the collection. Measured in this process, over real HTTP to the emulator under gunicorn:
- baseline: the same number of requests, each for the first page only (`query_items`, offset 0,
  1000 items), every item touched and the page dropped: what one page costs;
- the read: `iter_items` to the end of the collection, every item touched.
Each is measured with tracemalloc (peak of Python allocations during the loop) and by the
process's resident memory (growth of VmRSS over its value before the loop, sampled every page).
If the read held what it had read, its peak would grow with the collection (100 pages: ~100x).
"""

from __future__ import annotations

import argparse
import math
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from bench import _harness as h

PAGE = 1000


def rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def measure(loop: Callable[[Callable[[], None]], int]) -> tuple[int, int, int]:
    """(items seen, tracemalloc peak, RSS growth) of `loop`, which calls `sample` once a page."""
    start_rss = rss_bytes()
    peak_rss = start_rss

    def sample() -> None:
        nonlocal peak_rss
        peak_rss = max(peak_rss, rss_bytes())

    tracemalloc.start()
    try:
        seen = loop(sample)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return seen, peak, peak_rss - start_rss


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    args = parser.parse_args()
    report = h.Report(f"Data paging: iter_items over {args.items:,} items")
    stack = h.Stack(name="data_paging", web_workers=1).boot()

    from wixapi import ApiKeyAuth, WixDataClient
    from wixemulator import services as emu
    from wixemulator.models import EmuRequestLog

    creds = emu.create_site(name="Big", items=args.items)
    pages = math.ceil(args.items / PAGE)
    client = WixDataClient(
        stack.emulator_url,
        ApiKeyAuth(api_key=creds.api_key, site_id=creds.site_id),
        read_timeout=120,
    )

    def first_page_again(sample: Callable[[], None]) -> int:
        seen = 0
        for _ in range(pages):
            page = client.query_items("Items", limit=PAGE, offset=0)
            seen += sum(1 for item in page.items if item.id)
            del page
            sample()
        return seen

    def read_all(sample: Callable[[], None]) -> int:
        seen = 0
        for item in client.iter_items("Items", page_size=PAGE):
            if item.id:
                seen += 1
            if seen % PAGE == 0:
                sample()
        return seen

    # Warm-up (imports, the connection, the server's caches): one request, so the three loops
    # stay near the site's 200 a minute; answered requests only, so a 429 retried is not counted.
    client.query_items("Items", limit=PAGE, offset=0)
    queries = EmuRequestLog.objects.filter(site__site_id=creds.site_id, status=200)
    before = queries.count()
    base_seen, base_peak, base_rss = measure(first_page_again)
    between = queries.count()
    seen, peak, rss = measure(read_all)
    read_requests = queries.count() - between
    client.close()

    mb = 1024 * 1024
    report.note(f"{pages} requests each; baseline saw {base_seen:,} items, the read {seen:,}")
    report.figure("items read", seen, digits=0, target=f"= {args.items:,}", ok=seen == args.items)
    report.figure(
        "requests of the read",
        read_requests,
        digits=0,
        baseline=between - before,
        baseline_name="first page again",
        target=f"= {pages} (one per page)",
        ok=read_requests == pages,
    )
    report.figure(
        "tracemalloc peak",
        peak / mb,
        " MB",
        baseline=base_peak / mb,
        baseline_name="first page again",
        # While the next page is parsed the last one is still referenced: two pages at most,
        # against ~100x if the read kept what it had read.
        target="at most 2x the baseline",
        ok=peak <= 2 * base_peak,
    )
    # Growth of RSS is shown, not judged: the allocator keeps freed pages, so a few MB either way
    # says nothing; a read that held everything would show hundreds.
    report.figure(
        "RSS growth", rss / mb, " MB", baseline=base_rss / mb, baseline_name="first page again"
    )
    return report.finish()


if __name__ == "__main__":
    h.run(main)
