"""The live fragments htmx polls: database only, quiet while nothing changes, final = no poll."""

import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote

import pytest
from django.contrib.staticfiles import finders
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from sites import engine
from sites.models import Backup, Operation, Restoration
from tests.factories import make_backup, make_operation, make_restoration

POLL_TRIGGER = 'hx-trigger="every 2s, visibilitychange from:document"'


def poll_url(html: str, fragment_id: str) -> str | None:
    """The URL the fragment polls, or None when it does not poll."""
    match = re.search(rf'<div id="{fragment_id}" data-live([^>]*)>', html)
    assert match, f"no #{fragment_id} fragment"
    url = re.search(r'hx-get="([^"]+)"', match.group(1))
    return url.group(1).replace("&amp;", "&") if url else None


@pytest.fixture
def no_wix(monkeypatch):
    """Fail the test if anything would reach Wix or ask a worker to."""

    def refuse(*args, **kwargs):
        raise AssertionError("a live endpoint must read the database only")

    monkeypatch.setattr(engine.refresh, "client_for", refuse)
    monkeypatch.setattr(engine.submit, "client_for", refuse)
    monkeypatch.setattr(engine, "site_refresh_if_stale", refuse)
    monkeypatch.setattr(engine.refresh, "enqueue_refresh", refuse)


def test_a_page_with_a_pending_backup_polls_its_live_fragment(owner_client, site):
    make_backup(site, status=Backup.PENDING)
    html = owner_client.get(reverse("sites:site", args=[site.pk])).text
    url = poll_url(html, "site-live")
    assert url.startswith(reverse("sites:site_live", args=[site.pk]) + "?v=")
    assert POLL_TRIGGER in html and 'hx-swap="outerHTML"' in html


def test_a_page_where_everything_is_final_does_not_poll(owner_client, site):
    backup = make_backup(site)
    make_backup(site, status=Backup.DELETED)
    make_restoration(site, backup)
    make_operation(site, state=Operation.State.SUCCEEDED)
    html = owner_client.get(reverse("sites:site", args=[site.pk])).text
    assert poll_url(html, "site-live") is None
    assert "hx-trigger" not in html


def test_the_live_fragment_answers_204_while_nothing_changed(owner_client, site, no_wix):
    make_backup(site, status=Backup.PENDING)
    html = owner_client.get(reverse("sites:site_live", args=[site.pk])).text
    again = owner_client.get(poll_url(html, "site-live"))
    assert again.status_code == 204 and again.content == b""


def test_when_the_backup_turns_ready_the_fragment_stops_polling_and_announces_it(
    owner_client, site, no_wix
):
    backup = make_backup(site, status=Backup.PENDING)
    html = owner_client.get(reverse("sites:site_live", args=[site.pk])).text
    url = poll_url(html, "site-live")
    assert f"b.{backup.wix_id}:PENDING" in unquote(url)

    Backup.objects.filter(pk=backup.pk).update(status=Backup.READY, size_in_bytes=2048)
    engine.site_touch(site.pk)  # as the worker's services do with every change pages show
    answer = owner_client.get(url)
    assert answer.status_code == 200
    assert poll_url(answer.text, "site-live") is None  # final: polling stops by itself
    assert '<span class="badge badge-READY">READY</span>' in answer.text
    assert "2.0\xa0KB" in answer.text
    announcer = re.search(
        r'<div id="announcer" hx-swap-oob="innerHTML">(.*?)</div>', answer.text, re.S
    )
    assert "The on-demand backup of" in announcer.group(1)
    assert "is READY." in announcer.group(1)


def test_a_restore_finishing_is_announced(owner_client, site, no_wix):
    restoration = make_restoration(site, make_backup(site), status=Restoration.PENDING)
    url = poll_url(owner_client.get(reverse("sites:site_live", args=[site.pk])).text, "site-live")
    Restoration.objects.filter(pk=restoration.pk).update(status=Restoration.COMPLETED)
    engine.site_touch(site.pk)
    answer = owner_client.get(url)
    assert "is COMPLETED." in answer.text.split('id="announcer"', 1)[1]


def test_an_operation_failing_before_wix_saw_it_is_announced(owner_client, site, no_wix):
    operation = make_operation(site)
    url = poll_url(owner_client.get(reverse("sites:site_live", args=[site.pk])).text, "site-live")
    Operation.objects.filter(pk=operation.pk).update(
        state=Operation.State.FAILED, error="Wix rejected the API key."
    )
    engine.site_touch(site.pk)
    answer = owner_client.get(url)
    announcement = answer.text.split('id="announcer"', 1)[1]
    assert "Back up failed. Wix rejected the API key." in announcement


def test_the_announcer_region_stays_in_the_page_outside_the_swapped_fragment(owner_client, site):
    make_backup(site, status=Backup.PENDING)
    html = owner_client.get(reverse("sites:site", args=[site.pk])).text
    assert '<div id="announcer" class="visually-hidden" role="status" aria-live="polite"' in html
    assert html.index('id="announcer"') > html.index("</main>")


def test_live_endpoints_never_ask_wix_even_for_a_stale_site(owner_client, site, no_wix):
    site.last_synced_at = timezone.now() - timedelta(days=1)
    site.save()
    operation = make_operation(site)
    assert owner_client.get(reverse("sites:site_live", args=[site.pk])).status_code == 200
    assert owner_client.get(reverse("sites:dashboard_live")).status_code == 200
    url = reverse("sites:operation_live", args=[site.pk, operation.pk])
    assert owner_client.get(url).status_code == 200


def test_opening_a_stale_site_asks_for_fresh_data_and_polls_until_it_lands(
    owner_client, site, monkeypatch
):
    asked = []
    monkeypatch.setattr(engine.refresh, "enqueue_refresh", asked.append)  # no broker round trip
    site.last_synced_at = timezone.now() - timedelta(hours=2)
    site.save()
    html = owner_client.get(reverse("sites:site", args=[site.pk])).text
    assert asked == [site.pk]
    assert "Fetching the latest from Wix" in html
    url = poll_url(html, "site-live")
    assert "&since=" in url

    # The worker's refresh lands: the next poll shows it and polling stops.
    site.last_synced_at = timezone.now() + timedelta(seconds=1)
    site.save()
    answer = owner_client.get(url)
    assert answer.status_code == 200
    assert poll_url(answer.text, "site-live") is None
    assert "Fetching the latest" not in answer.text


def test_the_site_fragment_costs_the_same_queries_for_3_or_40_backups(owner_client, site):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            owner_client.get(reverse("sites:site_live", args=[site.pk]))
        return len(queries)

    for n in range(3):
        backup = make_backup(site, status=Backup.PENDING if n == 0 else Backup.READY)
        make_restoration(site, backup)
        make_operation(site, backup_wix_id=backup.wix_id)
    few = count()
    for n in range(37):
        backup = make_backup(site, age=timedelta(days=n))
        make_restoration(site, backup)
    engine.site_touch(site.pk)  # as the worker does: the tables are drawn again
    # At most one more: the backups that the shown restorations name, once older than the shown
    # backups, are read in one query (never one per row).
    assert count() - few <= 1
    # The state's and the rows' queries, sent together (sites/batch.py): among them the backup
    # the next one evicts, the snapshots taken with the backups shown, the restores from
    # snapshots, the open incidents ("needs attention") and the schedules.
    assert few <= 17


@pytest.mark.parametrize(
    "query",
    [
        "w=garbage",
        "w=b.:x,o.not-a-uuid:queued,r." + "x" * 500 + ":P",
        "since=nan",
        "since=1e999",
        "v=" + "x" * 5000,
        "w=" + ",".join(["o.00000000-0000-0000-0000-000000000000:queued"] * 500),
    ],
)
def test_junk_in_the_poll_url_is_ignored(owner_client, site, query):
    make_backup(site, status=Backup.PENDING)
    answer = owner_client.get(reverse("sites:site_live", args=[site.pk]) + "?" + query)
    assert answer.status_code == 200


def test_the_operation_fragment_polls_until_the_restoration_is_final(owner_client, site, no_wix):
    backup = make_backup(site)
    restoration = make_restoration(site, backup, status=Restoration.PENDING)
    operation = make_operation(
        site,
        kind=Operation.Kind.RESTORE,
        state=Operation.State.SUBMITTED,
        backup_wix_id=backup.wix_id,
        restoration_wix_id=restoration.wix_id,
    )
    page = owner_client.get(reverse("sites:operation", args=[site.pk, operation.pk])).text
    url = poll_url(page, "operation-live")
    assert url.startswith(reverse("sites:operation_live", args=[site.pk, operation.pk]))
    assert owner_client.get(url).status_code == 204

    Restoration.objects.filter(pk=restoration.pk).update(status=Restoration.COMPLETED)
    Operation.objects.filter(pk=operation.pk).update(state=Operation.State.SUCCEEDED)
    engine.site_touch(site.pk)
    answer = owner_client.get(url)
    assert poll_url(answer.text, "operation-live") is None
    assert '<span class="badge badge-COMPLETED">COMPLETED</span>' in answer.text
    assert "is COMPLETED." in answer.text.split('id="announcer"', 1)[1]


def test_the_dashboard_fragment_announces_finished_operations(owner_client, site, no_wix):
    operation = make_operation(site, state=Operation.State.SUBMITTED)
    url = poll_url(owner_client.get(reverse("sites:dashboard")).text, "dashboard-live")
    assert owner_client.get(url).status_code == 204
    Operation.objects.filter(pk=operation.pk).update(state=Operation.State.SUCCEEDED)
    engine.site_touch(site.pk)
    answer = owner_client.get(url)
    assert poll_url(answer.text, "dashboard-live") is None
    assert "Candle Shop: Back up succeeded." in answer.text.split('id="announcer"', 1)[1]


def test_pages_load_htmx_from_django_htmx_and_the_script_that_pauses_hidden_tabs(
    owner_client, site
):
    # The pause itself is exercised in Chromium (tests/browser); here: the pieces are in place.
    make_backup(site, status=Backup.PENDING)
    html = owner_client.get(reverse("sites:site", args=[site.pk])).text
    assert re.search(r'<script src="/static/django_htmx/htmx-2\.min\.js" defer>', html)
    assert '<script src="/static/js/live.js" defer></script>' in html
    assert "<script>" not in html  # no inline script: ready for a strict CSP
    assert '<div id="site-live" data-live' in html
    script = Path(finders.find("js/live.js")).read_text()
    assert 'document.visibilityState !== "visible"' in script
    assert 'hasAttribute("data-live")' in script
    assert "https://" not in html.split("<body", 1)[0]  # nothing from a CDN


def test_csrf_token_travels_with_htmx_requests(owner_client):
    html = owner_client.get(reverse("sites:dashboard")).text
    assert re.search(r"<body hx-headers='\{\"X-CSRFToken\": \"[A-Za-z0-9]+\"\}'>", html)


def test_a_poll_after_the_session_ended_reloads_the_page_instead_of_swapping_in_sign_in(
    client, site
):
    for url in [
        reverse("sites:dashboard_live"),
        reverse("sites:site_live", args=[site.pk]),
        reverse("sites:operation_live", args=[site.pk, make_operation(site).pk]),
    ]:
        polled = client.get(url, headers={"HX-Request": "true"})
        assert polled.status_code == 200 and polled["HX-Refresh"] == "true", url
        assert polled.content == b""
        plain = client.get(url)
        assert plain.status_code == 302 and plain["Location"].startswith(reverse("login"))


def test_a_poll_that_finds_nothing_new_reads_the_version_and_nothing_else(owner_client, site):
    site.last_synced_at = timezone.now()  # opening the page asks no refresh
    site.save()
    make_backup(site, status=Backup.PENDING)
    operation = make_operation(site)
    polled = {
        "site-live": (reverse("sites:site", args=[site.pk]), "sites_site"),
        "dashboard-live": (reverse("sites:dashboard"), "sites_site"),
        "operation-live": (
            reverse("sites:operation", args=[site.pk, operation.pk]),
            "sites_operation",
        ),
    }
    for fragment, (page_url, table) in polled.items():
        url = poll_url(owner_client.get(page_url).text, fragment)
        with CaptureQueriesContext(connection) as queries:
            answer = owner_client.get(url)
        assert answer.status_code == 204, fragment
        read = [re.search(r'FROM "(\w+)"', q["sql"]).group(1) for q in queries]
        # The session (from the cache in production), the signed-in user, the version.
        assert read == ["django_session", "auth_user", table], fragment


def test_a_poll_of_another_owners_site_is_404_even_with_its_current_version(
    owner_client, site, django_user_model
):
    make_backup(site, status=Backup.PENDING)
    url = poll_url(owner_client.get(reverse("sites:site", args=[site.pk])).text, "site-live")
    stranger = django_user_model.objects.create_user("mallory", password="pw-mallory-123456")
    owner_client.force_login(stranger)
    assert owner_client.get(url).status_code == 404
