"""Ages of timestamps ("5 minutes ago"): written by the browser (static/js/ages.js), kept counting
on a page left open, and put back after htmx swaps a fresh fragment in, all under the strict CSP.

No worker here: the site and its backups are written to the database as a sync would, and the
site counts as just synced, so opening its page asks Wix for nothing.
"""

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from sites.models import Backup
from tests.factories import make_backup, make_site

NBSP = "\u00a0"


@pytest.fixture
def violations(page: Page) -> list[str]:
    """What the browser reports against the Content-Security-Policy."""
    seen: list[str] = []
    page.on(
        "console",
        lambda message: "Content Security Policy" in message.text and seen.append(message.text),
    )
    return seen


@pytest.fixture
def signed_in(page: Page, owner, live_server) -> Iterator[Page]:
    """The owner's tab with a session made by the test client (the sign-in form is tested
    elsewhere)."""
    client = Client()
    client.force_login(owner)
    cookie = settings.SESSION_COOKIE_NAME
    page.context.add_cookies(
        [{"name": cookie, "value": client.cookies[cookie].value, "url": live_server.url}]
    )
    return page


def age_of(page: Page, backup: Backup):
    """The age the owner reads beside when the backup was requested."""
    return page.locator(f'[id="b-{backup.wix_id}"] .age')


def test_ages_are_shown_and_keep_counting_without_a_reload(owner, signed_in: Page, violations):
    page = signed_in
    site = make_site(owner)
    recent = make_backup(site, age=timedelta(minutes=5))
    old = make_backup(site, type=Backup.AUTO, age=timedelta(days=3))
    # The browser's clock starts at the real time (the server's) and runs on; the test jumps it.
    page.clock.install()
    page.goto(reverse("sites:site", args=[site.pk]))
    page.evaluate("window.sameDocument = true")  # gone if the page were reloaded

    expect(age_of(page, recent)).to_have_text(re.compile(rf"^\(5{NBSP}minutes ago\)$"))
    expect(age_of(page, old)).to_have_text(re.compile(rf"^\(3{NBSP}days ago\)$"))
    # Next to the server's absolute time, as "3 Mar 2026, 14:02:09 (5 minutes ago)" (a backup's
    # time reads to the second, so backups of the same minute read apart).
    cell = page.locator(f'[id="b-{recent.wix_id}"]')
    expect(cell).to_have_text(
        re.compile(rf"^\d+ \w+ \d{{4}}, \d\d:\d\d:\d\d \(5{NBSP}minutes ago\)$")
    )

    page.clock.fast_forward("02:00")
    expect(age_of(page, recent)).to_have_text(re.compile(rf"^\(7{NBSP}minutes ago\)$"))
    expect(age_of(page, old)).to_have_text(re.compile(rf"^\(3{NBSP}days ago\)$"))
    page.clock.run_for("01:00:00")
    expect(age_of(page, recent)).to_have_text(re.compile(rf"^\(1{NBSP}hour ago\)$"))

    assert page.evaluate("window.sameDocument") is True
    assert page.locator("time[data-age]").count() == page.locator(".age").count() > 0
    assert violations == []


def test_a_fragment_swapped_in_by_htmx_gets_its_ages_back_once(owner, signed_in: Page, violations):
    page = signed_in
    site = make_site(owner)
    backup = make_backup(site, age=timedelta(minutes=5))
    page.clock.install()
    page.goto(reverse("sites:site", args=[site.pk]))
    expect(age_of(page, backup)).to_have_text(re.compile(rf"^\(5{NBSP}minutes ago\)$"))
    # Time stands still from here: the 30 s refresh cannot be what puts the ages back.
    page.clock.pause_at(timezone.now() + timedelta(seconds=1))
    ages = page.locator(".age").count()
    assert ages == page.locator("time[data-age]").count() > 0

    # A new backup lands; the live fragment is swapped as a poll swaps it (the poll itself only
    # runs while something is in flight, and its caching is not what this test is about).
    newer = make_backup(site, age=timedelta(hours=2), status=Backup.READY)
    page.evaluate("document.getElementById('site-live').dataset.before = 'swap'")
    page.evaluate(
        """() => htmx.ajax("GET", location.pathname,
                           {target: "#site-live", select: "#site-live", swap: "outerHTML"})"""
    )
    expect(page.locator("#site-live[data-before]")).to_have_count(0)  # really swapped
    page.clock.run_for(1000)  # htmx settles the swap on a timer
    expect(age_of(page, newer)).to_have_text(re.compile(rf"^\(2{NBSP}hours ago\)$"))
    expect(age_of(page, backup)).to_have_text(re.compile(rf"^\(5{NBSP}minutes ago\)$"))
    # One age per timestamp: none lost, none doubled (the new row adds two: requested, finished).
    expect(page.locator(".age")).to_have_count(ages + 2)
    assert page.locator(".age").count() == page.locator("time[data-age]").count()
    assert violations == []


def test_times_slightly_ahead_read_as_now_and_far_ahead_as_in(owner, signed_in: Page):
    page = signed_in
    site = make_site(owner)
    # A server clock a little ahead of the browser's, and one far ahead (or a wrong zone).
    ahead = make_backup(site, age=timedelta(seconds=-20))
    later = make_backup(site, age=timedelta(hours=-3, minutes=-1))
    page.goto(reverse("sites:site", args=[site.pk]))
    expect(age_of(page, ahead)).to_have_text("(just now)")
    expect(age_of(page, later)).to_have_text(re.compile(rf"^\(in 3{NBSP}hours\)$"))
