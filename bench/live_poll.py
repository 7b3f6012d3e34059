"""Live poll: what a poll costs when nothing changed, against a bare Django view.

    python -m bench.live_poll [--seconds 4] [--rounds 3]

Every open page with something in flight polls every 2 s, so an idle-looking tab is a steady
load: the poll that finds nothing new must be nearly free. For each live fragment htmx polls (a
site's page, the dashboard, an operation's page), with a backup and a delete running, the answer
when nothing changed is measured three ways:

- SQL queries, counted in this process through Django's test client (sessions and login included,
  as the server runs them);
- bytes on the wire, status line and headers included, from gunicorn;
- requests per second under load: wrk (Debian's package) against gunicorn (3 sync workers, as
  the production image runs it), alternating with `bench/bare/`, a view with the same middleware
  and login check answering two bytes; the figure is the ratio of the medians.

Targets: at most 2 queries and 2 KB; at least 0.6x the bare view's requests per second.
"""

from __future__ import annotations

import argparse
import html
import re
import socket

from bench import _harness as h

MAX_QUERIES = 2
MAX_BYTES = 2048
MIN_RATIO = 0.6


def poll_url(text: str, element_id: str) -> str | None:
    found = re.search(rf'id="{element_id}"[^>]*?hx-get="([^"]+)"', text, re.S)
    return html.unescape(found.group(1)) if found else None


def raw_get(port: int, path: str, headers: dict[str, str]) -> tuple[int, int]:
    """Status and size of the whole answer (status line, headers, body) as sent by the server."""
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    answer = b"".join(chunks)
    return int(answer.split(b" ", 2)[1]), len(answer)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="length of each wrk run")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)

    h.ensure_wrk()
    stack = h.Stack("live_poll", web_workers=3).boot()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from bench._data import mark_synced, populate
    from sites.models import Operation

    report = h.Report("Live poll")
    owner = h.make_owner()
    site = populate(owner, sites=1, backups=1000, restorations=20, activities=50)[0]
    others = populate(owner, sites=9, backups=20, restorations=2, activities=5)
    mark_synced([site, *others])
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(owner)
    cookie = client.cookies["sessionid"].value
    headers = {"Cookie": f"sessionid={cookie}", "HX-Request": "true"}
    running = Operation.objects.filter(site=site, state=Operation.State.SUBMITTED).first()
    assert running is not None
    pages: dict[str, tuple[str, str]] = {
        "site page": (reverse("sites:site", args=[site.pk]), "site-live"),
        "dashboard": (reverse("sites:dashboard"), "dashboard-live"),
        "operation page": (
            reverse("sites:operation", args=[site.pk, running.pk]),
            "operation-live",
        ),
    }
    polls: dict[str, str] = {"bare": reverse("bench-bare")}
    for name, (path, element) in pages.items():
        url = poll_url(client.get(path).text, element)
        if url is None:
            report.note(f"the {name} does not poll: nothing to measure")
            continue
        polls[name] = url
    report.note(
        f"a site with 1,000 backups and 9 small ones; a backup and a delete running; wrk "
        f"{args.rounds} x {args.seconds:g} s per endpoint, 2 threads, 6 connections"
    )

    # Queries and bytes of one poll each.
    for name, url in polls.items():
        with CaptureQueriesContext(connection) as queries:
            answer = client.get(url, headers={"HX-Request": "true"})
        status, size = raw_get(stack.web_port, url, headers)
        if name == "bare":
            report.note(f"{name}: {len(queries)} queries, {size} bytes (HTTP {status})")
            continue
        report.figure(
            f"{name} poll, nothing changed: queries (HTTP {answer.status_code})",
            len(queries),
            digits=0,
            target=f"at most {MAX_QUERIES}",
            ok=len(queries) <= MAX_QUERIES and answer.status_code == 204,
        )
        report.figure(
            f"{name} poll, nothing changed: bytes (HTTP {status})",
            size,
            " B",
            digits=0,
            target=f"at most {MAX_BYTES} B",
            ok=size <= MAX_BYTES,
        )

    # Throughput, alternating so that every endpoint sees the same noise.
    rates: dict[str, list[float]] = {name: [] for name in polls}
    bad: dict[str, int] = dict.fromkeys(polls, 0)
    h.wrk(stack.web_url + polls["bare"], headers=headers, seconds=1, threads=2, connections=6)
    for _ in range(args.rounds):
        for name, url in polls.items():
            result = h.wrk(
                stack.web_url + url, headers=headers, seconds=args.seconds, threads=2, connections=6
            )
            rates[name].append(result.requests_per_second)
            bad[name] += result.bad_answers
    bare = h.median(rates["bare"])
    report.figure("bare view, requests per second (median)", bare, digits=0)
    for name in polls:
        rate = h.median(rates[name])
        if name == "bare":
            continue
        report.figure(
            f"{name} poll, nothing changed: requests per second (median)",
            rate,
            digits=0,
            baseline=bare,
            baseline_name="bare view",
            target=f"at least {MIN_RATIO}x the bare view",
            ok=rate >= MIN_RATIO * bare and not bad[name],
        )
    for name, count in bad.items():
        if count:
            report.note(f"{name}: {count} failed answers or socket errors under load")
    return report.finish()


if __name__ == "__main__":
    h.run(main)
