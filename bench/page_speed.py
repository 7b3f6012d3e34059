"""Page speed: a site's page with 1,000 backups, against a bare Django view on the same server.

    python -m bench.page_speed [--rounds 60]

Site owners feel speed in the pages. One owner's site holds 1,000 backups (with restorations,
running operations and activity); its page is fetched over HTTP from gunicorn (one sync worker,
so requests never wait for each other), alternating with `bench/bare/`: a view that goes through
the same middleware and login check and answers two bytes. Alternating makes both see the same
noise; the figure is the ratio of the medians.

Targets, as multiples of the bare view's median: the site page at most 3x (its state and rows
read once per version of the site and kept: a change the page shows moves the version); the
site page's first view after a change at most 5x (the version is moved before each of those
requests, so nothing is kept); the owner's dashboard with the same site and 9 more at most 3x.
The page's live fragment with something changed is timed too (info only).
"""

from __future__ import annotations

import argparse
import http.client
import time

from bench import _harness as h

AFTER_CHANGE = "site page, first view after a change"
DASHBOARD = "dashboard (10 sites)"
# Each page's budget, as a multiple of the bare view's median (issue 13's figures).
TARGETS = {"site page": 3.0, AFTER_CHANGE: 5.0, DASHBOARD: 3.0}


def timed_get(port: int, path: str, cookie: str) -> tuple[float, int, int]:
    """Seconds from sending the request to the last byte of the answer; status; body bytes."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        started = time.perf_counter()
        conn.request("GET", path, headers={"Cookie": f"sessionid={cookie}"})
        answer = conn.getresponse()
        body = answer.read()
        return time.perf_counter() - started, answer.status, len(body)
    finally:
        conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=60)
    args = parser.parse_args(argv)

    stack = h.Stack("page_speed", web_workers=1).boot()
    from django.test import Client
    from django.urls import reverse

    from bench._data import mark_synced, populate
    from sites import engine

    report = h.Report("Page speed")
    owner = h.make_owner()
    site = populate(owner, sites=1, backups=1000, restorations=20, activities=50)[0]
    others = populate(owner, sites=9, backups=20, restorations=2, activities=5)
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(owner)
    cookie = client.cookies["sessionid"].value
    paths = {
        "bare": reverse("bench-bare"),
        "site page": reverse("sites:site", args=[site.pk]),
        AFTER_CHANGE: reverse("sites:site", args=[site.pk]),
        "site page, live fragment (changed)": reverse("sites:site_live", args=[site.pk]),
        DASHBOARD: reverse("sites:dashboard"),
    }
    report.note(
        f"site with 1,000 backups; gunicorn, 1 sync worker; {args.rounds} rounds, "
        "each fetching every page once in turn"
    )
    times: dict[str, list[float]] = {name: [] for name in paths}
    sizes: dict[str, int] = {}
    for round_number in range(args.rounds + 5):
        if round_number % 20 == 0:
            mark_synced([site, *others])  # a stale site's page would ask the worker for a refresh
        for name, path in paths.items():
            if name == AFTER_CHANGE:
                engine.site_touch(site.pk)  # as the engine does when Wix's answer changes
            seconds, status, size = timed_get(stack.web_port, path, cookie)
            if status != 200:
                raise SystemExit(f"{name}: HTTP {status}")
            if round_number >= 5:  # the first rounds warm up templates, connections and caches
                times[name].append(seconds)
                sizes[name] = size
    bare = h.median(times["bare"])
    report.figure("bare view, median", bare * 1000, " ms")
    for name in paths:
        if name == "bare":
            continue
        median = h.median(times[name])
        limit = TARGETS.get(name)
        report.figure(
            f"{name}, median ({sizes[name] / 1024:.0f} KB)",
            median * 1000,
            " ms",
            baseline=bare * 1000,
            baseline_name="bare view",
            target=f"at most {limit:g}x the bare view" if limit else "",
            ok=median <= limit * bare if limit else None,
        )
        report.note(f"p90 {h.percentile(times[name], 0.9) * 1000:.1f} ms")
    return report.finish()


if __name__ == "__main__":
    h.run(main)
