"""Page cost: SQL queries of the dashboard and a site's page, small owner against large owner.

    python -m bench.page_cost [--show]

A page whose queries grow with its rows (a query per site, per backup) is slow exactly for the
owners with the most to protect. Two owners in one database: one with 1 site and 3 backups (the
baseline), one with 200 sites of 1,000 backups each (200,000 backups). Each page, and each live
fragment htmx polls (with something changed, and with nothing changed), is fetched by both through
Django's test client in this process, counting every query, sessions and login included.

Target: the same count for both owners on every page (no query per row).
`--show` prints the large owner's queries, to see which one grew.
"""

from __future__ import annotations

import argparse
import html
import re
import time
from typing import Any

from bench import _harness as h

SITES, BACKUPS = 200, 1000


def poll_url(text: str, element_id: str) -> str | None:
    found = re.search(rf'id="{element_id}"[^>]*?hx-get="([^"]+)"', text, re.S)
    return html.unescape(found.group(1)) if found else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--show", action="store_true", help="print the large owner's queries")
    args = parser.parse_args(argv)

    # Redis only so that the pages' enqueues (a stale site asks a refresh) cannot block.
    h.Stack("page_cost").boot(web=False)
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from bench._data import mark_synced, populate

    report = h.Report("Page cost")
    started = time.monotonic()
    owners: dict[str, tuple[Client, Any]] = {}
    for name, sites, backups, restorations, activities in (
        ("small", 1, 3, 2, 5),
        ("large", SITES, BACKUPS, 20, 100),
    ):
        owner = h.make_owner(name)
        made = populate(
            owner, sites=sites, backups=backups, restorations=restorations, activities=activities
        )
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(owner)
        owners[name] = (client, made)
    report.note(
        f"data: 1 site x 3 backups, and {SITES} sites x {BACKUPS:,} backups "
        f"(written in {time.monotonic() - started:.0f} s)"
    )

    def fetch(name: str, url: str) -> tuple[int, int, list[str]]:
        client, _ = owners[name]
        with CaptureQueriesContext(connection) as queries:
            answer = client.get(url, headers={"HX-Request": "true"} if "/live/" in url else {})
        return answer.status_code, len(queries), [q["sql"] for q in queries]

    def pages(name: str) -> dict[str, str]:
        client, sites = owners[name]
        site = sites[0]
        urls = {
            "dashboard": reverse("sites:dashboard"),
            "site page": reverse("sites:site", args=[site.pk]),
        }
        dashboard = client.get(urls["dashboard"]).text
        site_page = client.get(urls["site page"]).text
        for label, text, element in (
            ("dashboard", dashboard, "dashboard-live"),
            ("site page", site_page, "site-live"),
        ):
            live = poll_url(text, element)
            if live is None:
                report.note(f"{name}: the {label} does not poll (nothing in flight?)")
                continue
            urls[f"{label}, live fragment, nothing changed"] = live
            urls[f"{label}, live fragment, changed"] = re.sub(r"([?&])v=[^&]*", r"\1v=", live)
        return urls

    # Synced just now, so no page asks Wix for a refresh during the count.
    for _, sites in owners.values():
        mark_synced(sites)
    small_pages, large_pages = pages("small"), pages("large")
    for label, small_url in small_pages.items():
        small_status, small_count, _ = fetch("small", small_url)
        large_status, large_count, large_sql = fetch("large", large_pages[label])
        report.figure(
            f"{label}: queries with {SITES} sites x {BACKUPS:,} backups "
            f"(HTTP {small_status}/{large_status})",
            large_count,
            digits=0,
            baseline=small_count,
            baseline_name="1 site x 3 backups",
            target="the same count",
            ok=large_count == small_count and small_status == large_status and large_status < 300,
        )
        if args.show:
            for sql in large_sql:
                report.note(f"    {sql[:160]}")
    return report.finish()


if __name__ == "__main__":
    h.run(main)
