"""Freshness: from the emulator's `finishedDate` to READY in the mirror, and to the owner's badge.

    python -m bench.freshness [--sites 6] [--rounds 6]
    WBM_POLL_INTERVAL=1 WBM_SWEEP_INTERVAL=0.5 python -m bench.freshness   # faster engine

Site owners feel speed in how fast a badge turns READY after Wix is done. Each of a few emulated
sites makes backups one after the other (random durations, so a backup ends at any point of a
poll cycle), through the real worker and beat. Three observers time each backup from its
`finishedDate`:

- the mirror: this process reads the Backup row every 50 ms;
- the badge: a simulated browser per site opens the site's page after asking for the backup, then
  fetches the page's live fragment the way htmx does (the URL and interval the fragment carries,
  204 while nothing changed) and reads the backup's status badge from the answer;
- the baseline: an ideal poller that lists each site's backups straight from the emulator every
  poll interval, with no queue, sweeper or database in between. Polling at interval P cannot do
  better than about P/2 on median; the engine's ratio to it is its own overhead.

Target: median at most the poll interval plus 0.5 s (the badge's poll interval is the larger of
the engine's and the fragment's own, since its delay adds both).
"""

from __future__ import annotations

import argparse
import html
import random
import re
import threading
import time
from datetime import datetime
from typing import Any

from bench import _harness as h

HX_GET = re.compile(r'id="site-live"[^>]*?hx-get="([^"]+)"', re.S)
HX_EVERY = re.compile(r'id="site-live"[^>]*?hx-trigger="every ([0-9.]+)s', re.S)
ROW_BADGE = r'data-backup="{}"[^>]*>.*?<td data-status>\s*<span class="badge badge-([A-Z_]+)"'


def now_utc() -> datetime:
    from django.utils import timezone

    return timezone.now()


class IdealPoller(threading.Thread):
    """Lists every site's backups straight from the emulator every `poll` seconds."""

    def __init__(self, sites: list[Any], poll: float) -> None:
        super().__init__(daemon=True)
        self.sites = sites
        self.poll = poll
        self.seen: dict[str, datetime] = {}
        self.stopping = threading.Event()

    def run(self) -> None:
        from django.db import connection

        from sites.wix_clients import client_for

        clients = {site.pk: client_for(site) for site in self.sites}
        # A random phase per site, as the engine's cycles have relative to when backups end.
        due = {site.pk: time.monotonic() + random.uniform(0, self.poll) for site in self.sites}
        try:
            while not self.stopping.is_set():
                for site in self.sites:
                    if time.monotonic() < due[site.pk]:
                        continue
                    due[site.pk] += self.poll
                    for backup in clients[site.pk].list_backups(limit=50, status=["READY"]).items:
                        self.seen.setdefault(backup.id, now_utc())
                self.stopping.wait(0.01)
        finally:
            for client in clients.values():
                client.close()
            connection.close()


class Browser(threading.Thread):
    """One owner on one site's page: asks for a backup, then watches its badge like htmx does."""

    def __init__(self, stack: h.Stack, site: Any, owner: Any, rounds: int, cookie: str) -> None:
        super().__init__(daemon=True)
        self.stack = stack
        self.site = site
        self.owner = owner
        self.rounds = rounds
        self.cookie = cookie
        self.badge_seen: dict[str, datetime] = {}
        self.backup_ids: list[str] = []
        self.interval = 2.0
        self.answers: dict[int, int] = {}  # poll answers by HTTP status
        self.poll_bytes = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        import requests
        from django.db import connection
        from django.urls import reverse

        session = requests.Session()
        session.cookies.set("sessionid", self.cookie)
        page_url = self.stack.web_url + reverse("sites:site", args=[self.site.pk])
        try:
            for _ in range(self.rounds):
                self.one_backup(session, page_url)
                time.sleep(random.uniform(0, 1))
        except BaseException as error:  # reported by the main thread
            self.error = error
        finally:
            session.close()
            connection.close()

    def one_backup(self, session: Any, page_url: str) -> None:
        from sites import engine
        from sites.models import Operation
        from wixemulator import services as emu

        # Random durations, so a backup ends anywhere in a poll cycle.
        emu.set_delays(self.site.wix_site_id, backup_seconds=random.uniform(2.0, 6.0))
        # What the "Back up now" button does, then the redirect to the site's page.
        op = engine.operation_request(
            site=self.site, kind=Operation.Kind.CREATE_BACKUP, user=self.owner
        )
        page = session.get(page_url, timeout=10)
        page.raise_for_status()
        live = self.live_url(page.text)
        deadline = time.monotonic() + 120
        backup_id = ""
        while time.monotonic() < deadline:
            tick = time.monotonic()
            if live is None:  # polling stopped: the fragment no longer carries hx-get
                raise RuntimeError(f"the page stopped polling before backup {backup_id} was READY")
            answer = session.get(live, headers={"HX-Request": "true"}, timeout=10)
            answer.raise_for_status()
            self.answers[answer.status_code] = self.answers.get(answer.status_code, 0) + 1
            self.poll_bytes += len(answer.content)
            if not backup_id:
                op.refresh_from_db()
                backup_id = op.backup_wix_id
            if answer.status_code == 200:
                if backup_id and self.status(answer.text, backup_id) == "READY":
                    self.badge_seen[backup_id] = now_utc()
                    self.backup_ids.append(backup_id)
                    return
                live = self.live_url(answer.text)
            time.sleep(max(0.0, tick + self.interval - time.monotonic()))
        raise RuntimeError(f"backup {backup_id} never showed READY on the page")

    def live_url(self, text: str) -> str | None:
        found = HX_GET.search(text)
        every = HX_EVERY.search(text)
        if every:
            self.interval = float(every.group(1))
        return self.stack.web_url + html.unescape(found.group(1)) if found else None

    @staticmethod
    def status(text: str, backup_id: str) -> str | None:
        found = re.search(ROW_BADGE.format(re.escape(backup_id)), text, re.S)
        return found.group(1) if found else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sites", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=6, help="backups per site")
    args = parser.parse_args(argv)

    stack = h.Stack("freshness", env={"WBM_SYNC_INTERVAL": "3600"}).boot()
    from django.conf import settings
    from django.test import Client

    from sites.models import Backup
    from wixemulator.models import EmuBackup

    report = h.Report("Freshness")
    poll = settings.WBM_POLL_INTERVAL
    report.note(
        f"poll interval {poll:g} s, sweep interval {settings.WBM_SWEEP_INTERVAL:g} s; "
        f"{args.sites} sites x {args.rounds} backups of 2-6 s"
    )
    owner = h.make_owner()
    client = Client()
    client.force_login(owner)
    cookie = client.cookies["sessionid"].value
    sites = [h.connect_emulated(owner, stack, name=f"Shop {n}")[0] for n in range(args.sites)]
    stack.start_engine()

    ideal = IdealPoller(sites, poll)
    ideal.start()
    browsers = [Browser(stack, site, owner, args.rounds, cookie) for site in sites]
    for browser in browsers:
        browser.start()
    mirror_seen: dict[str, datetime] = {}
    while any(b.is_alive() for b in browsers):
        ready = Backup.objects.filter(site__in=sites, status=Backup.READY)
        for wix_id in ready.values_list("wix_id", flat=True):
            mirror_seen.setdefault(wix_id, now_utc())
        time.sleep(0.05)
    ideal.stopping.set()
    ideal.join(10)
    for browser in browsers:
        if browser.error is not None:
            report.note(f"{browser.site.name}: {browser.error!r}")

    ours = [wix_id for b in browsers for wix_id in b.backup_ids]
    finished_at = dict(
        EmuBackup.objects.filter(id__in=ours).values_list("id", "finish_at").iterator()
    )
    badge_seen = {k: v for b in browsers for k, v in b.badge_seen.items()}

    def delays(seen: dict[str, datetime]) -> list[float]:
        return [
            (seen[wix_id] - finished_at[_uuid(wix_id)]).total_seconds()
            for wix_id in ours
            if wix_id in seen
        ]

    mirror, badge, baseline = delays(mirror_seen), delays(badge_seen), delays(ideal.seen)
    report.note(f"{len(ours)} backups timed ({len(mirror)} mirror, {len(badge)} badge)")
    browser_poll = max(b.interval for b in browsers)
    mirror_median, badge_median = h.median(mirror), h.median(badge)
    report.figure(
        "finishedDate to mirror, median",
        mirror_median,
        " s",
        baseline=h.median(baseline),
        baseline_name="ideal poller",
        target=f"at most {poll + 0.5:g} s",
        ok=mirror_median <= poll + 0.5,
    )
    report.note(
        f"mirror p90 {h.percentile(mirror, 0.9):.2f} s, max {max(mirror, default=0):.2f} s; "
        f"ideal poller p90 {h.percentile(baseline, 0.9):.2f} s"
    )
    badge_poll = max(poll, browser_poll)
    report.figure(
        f"finishedDate to badge (page polls every {browser_poll:g} s), median",
        badge_median,
        " s",
        baseline=mirror_median,
        baseline_name="mirror",
        target=f"at most {badge_poll + 0.5:g} s",
        ok=badge_median <= badge_poll + 0.5,
    )
    report.note(f"badge p90 {h.percentile(badge, 0.9):.2f} s, max {max(badge, default=0):.2f} s")
    answers: dict[int, int] = {}
    for b in browsers:
        for status, count in b.answers.items():
            answers[status] = answers.get(status, 0) + count
    polls = sum(answers.values())
    report.note(
        f"the pages polled {polls} times: {answers.get(204, 0)} answered 204 (nothing changed), "
        f"{answers.get(200, 0)} re-rendered the fragment, "
        f"{sum(b.poll_bytes for b in browsers) / max(polls, 1) / 1024:.1f} KB of body per poll"
    )
    if any(b.error for b in browsers) or len(badge) < len(browsers) * args.rounds:
        report.figure("backups never timed", len(browsers) * args.rounds - len(badge), digits=0,
                      target="0", ok=False)  # fmt: skip
    return report.finish()


def _uuid(value: str) -> Any:
    import uuid

    return uuid.UUID(value)


if __name__ == "__main__":
    h.run(main)
