"""The snapshots section of a site's page, its views and the snapshot settings page.

Rows are written directly where only their display matters; downloads read real snapshots, taken
by the engine's own task code in this process from the emulator over HTTP into a folder of the
test's own.
"""

import html
import io
import json
import re
import uuid
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from sites import engine
from sites.models import Operation, Site, Snapshot
from sites.pages.snapshots import SNAPSHOTS_SHOWN, snapshot_section
from sites.snapshots import delete_snapshot
from tests.factories import connect_emulated_store, make_backup


def make_snapshot(site: Site, **fields) -> Snapshot:
    values = {"state": Snapshot.State.COMPLETE, "storage_id": uuid.uuid4().hex, **fields}
    return Snapshot.objects.create(site=site, **values)


def site_url(site: Site) -> str:
    return reverse("sites:site", args=[site.pk])


def url(name: str, site: Site, snapshot: Snapshot | None = None, *rest) -> str:
    args = [site.pk] + ([snapshot.pk] if snapshot is not None else []) + list(rest)
    return reverse(f"sites:{name}", args=args)


def said(answer) -> list[str]:
    return [str(m) for m in get_messages(answer.wsgi_request)]


# --- The section -------------------------------------------------------------------------------


def test_a_site_without_snapshots_offers_to_take_one(owner_client, site):
    page = owner_client.get(site_url(site)).text
    assert 'id="snapshots"' in page
    assert "No snapshots yet" in page
    assert f'action="{url("snapshot_take", site)}"' in page
    assert url("snapshot_settings", site) in page


def test_rows_show_state_progress_counts_verify_missing_and_the_backup(owner_client, site):
    now = timezone.now()
    backup = make_backup(site)
    running = make_snapshot(
        site,
        state=Snapshot.State.RUNNING,
        progress_collection="Products",
        progress_items=12000,
        progress_total=40000,
        collections_done=1,
        collections_total=5,
        started_at=now,
    )
    verified = make_snapshot(
        site,
        item_count=436,
        collection_count=3,
        verified_at=now - timedelta(minutes=5),
        verify_ok=True,
        backup=backup,
        started_at=now - timedelta(hours=1),
        collections=[
            {"id": "Products", "status": "complete", "items": 300},
            {"id": "Gone", "status": "missing", "items": 2, "reason": "deleted while read"},
        ],
    )
    damaged = make_snapshot(
        site,
        item_count=10,
        collection_count=1,
        verified_at=now,
        verify_ok=False,
        damaged_count=2,
        missing_count=1,
        pinned=True,
        started_at=now - timedelta(hours=2),
        verify_problems=[
            {"collection": "Products", "item_id": "product-0007", "kind": "damaged", "message": "x"}
        ],
    )
    failed = make_snapshot(
        site,
        state=Snapshot.State.FAILED,
        error="Wix refused the key.",
        started_at=now - timedelta(hours=3),
    )
    page = owner_client.get(site_url(site)).text

    def row(snapshot: Snapshot) -> str:
        start = page.index(f'data-snapshot="{snapshot.pk}"')
        return page[start : page.index("</tr>", start)]

    assert "Products: 12,000 of 40,000 items" in row(running)
    assert "1 of 5 collections done" in row(running)
    assert "This snapshot is still being taken." in row(running)
    assert url("snapshot_download", site, running) not in page
    assert "436 items in 3 collections" in row(verified)
    assert "verified on" in row(verified)
    assert "Incomplete: Gone (deleted while read)" in row(verified)
    assert "on-demand backup of" in row(verified)
    assert url("snapshot_download", site, verified) in row(verified)
    assert url("snapshot_csv", site, verified, "Products") in row(verified)
    assert url("snapshot_delete", site, verified) in row(verified)
    assert "2 damaged, 1 missing" in row(damaged)
    assert "product-0007" in row(damaged)
    assert "Pinned" in row(damaged) and "Unpin" in row(damaged)
    assert "unpin it before deleting it" in row(damaged)
    assert url("snapshot_delete", site, damaged) not in page
    assert "Wix refused the key." in row(failed)
    assert "This snapshot failed; it holds nothing to use." in row(failed)
    # Newest first (in the Snapshots table: the backups' rows link their own snapshots too).
    table = page[page.index('id="snapshots"') :]
    assert (
        table.index(str(running.pk)) < table.index(str(verified.pk)) < table.index(str(failed.pk))
    )


def test_a_backup_and_the_snapshot_taken_with_it_read_as_one_row(owner_client, site):
    """Issue 16: a Wix backup's contents are readable through its snapshot, in its own row."""
    now = timezone.now()
    linked = make_backup(site, age=timedelta(hours=3))
    make_snapshot(site, backup=linked, item_count=436, started_at=now - timedelta(hours=3))
    # A backup Wix is still making: its snapshot knows only the Back up now that asked for both.
    pending = make_backup(site, status="PENDING", age=timedelta(minutes=1))
    request = Operation.objects.create(
        site=site,
        kind=Operation.Kind.CREATE_BACKUP,
        state=Operation.State.SUBMITTED,
        backup_wix_id=pending.wix_id,
    )
    running = make_snapshot(
        site,
        backup_operation=request,
        state=Snapshot.State.RUNNING,
        progress_collection="Products",
        progress_items=2000,
        progress_total=4000,
        started_at=now,
    )
    broken = make_backup(site, age=timedelta(hours=5))
    make_snapshot(site, backup=broken, state=Snapshot.State.FAILED, started_at=now)
    alone = make_backup(site, age=timedelta(hours=6))
    engine.site_touch(site.pk)
    page = owner_client.get(site_url(site)).text

    def cell(backup) -> str:
        start = page.index(f'data-backup="{backup.wix_id}"')
        row = page[start : page.index("</tr>", start)]
        at = row.index("data-snapshot-cell")
        return row[at : row.index("</td>", at)]

    linked_snapshot = Snapshot.objects.get(backup=linked)
    assert url("snapshot_download", site, linked_snapshot) in cell(linked)
    assert "436 items" in cell(linked)
    assert "Products: 2,000 of 4,000 items" in cell(pending)
    assert url("snapshot_download", site, running) not in page.split('id="snapshots"')[0]
    assert "Snapshot failed" in cell(broken)
    assert "This snapshot failed; it holds nothing to use." in cell(broken)
    assert "Download" not in cell(alone) and "Snapshot failed" not in cell(alone)
    # Once Wix made the backup the engine links the snapshot to it: the same row still shows it.
    Snapshot.objects.filter(pk=running.pk).update(
        backup=pending, state=Snapshot.State.COMPLETE, item_count=4000
    )
    engine.site_touch(site.pk)
    page = owner_client.get(site_url(site)).text
    assert url("snapshot_download", site, running) in cell(pending)


def test_the_section_is_one_query_and_bounded_whatever_the_number_of_snapshots(site):
    costs = {}
    for count in (0, 3, SNAPSHOTS_SHOWN + 5):
        Snapshot.objects.filter(site=site).delete()
        for n in range(count):
            make_snapshot(site, started_at=timezone.now() - timedelta(minutes=n))
        fresh = Site.objects.get(pk=site.pk)
        with CaptureQueriesContext(connection) as queries:
            section = snapshot_section(fresh)
            [row.actions for row in section.rows]
        costs[count] = len(queries)
        assert len(section.rows) == min(count, SNAPSHOTS_SHOWN)
        assert section.more == max(count - SNAPSHOTS_SHOWN, 0)
    assert set(costs.values()) == {1}


def test_older_snapshots_are_counted_not_listed(owner_client, site):
    for n in range(SNAPSHOTS_SHOWN + 2):
        make_snapshot(site, started_at=timezone.now() - timedelta(minutes=n))
    page = owner_client.get(site_url(site)).text
    assert page.count("data-snapshot=") == SNAPSHOTS_SHOWN
    assert "and 2 older snapshots." in page


def test_another_owners_snapshots_are_not_shown(owner_client, site, outsider):
    theirs = make_snapshot(Site.objects.create(owner=outsider, name="Theirs", wix_site_id="x"))
    assert str(theirs.pk) not in owner_client.get(site_url(site)).text


# --- Take, pin, verify, delete -----------------------------------------------------------------


def test_take_a_snapshot_records_one_and_a_second_click_starts_none(owner_client, site):
    assert owner_client.get(url("snapshot_take", site)).status_code == 405
    answer = owner_client.post(url("snapshot_take", site))
    assert answer.status_code == 302 and answer["Location"].endswith("#snapshots")
    assert said(answer) == ["Snapshot started. Its progress shows below."]
    again = owner_client.post(url("snapshot_take", site))
    assert "already being taken" in said(again)[-1]
    assert site.snapshots.count() == 1
    assert site.operations.filter(kind=Operation.Kind.SNAPSHOT).count() == 1


def test_pin_and_unpin(owner_client, site):
    snapshot = make_snapshot(site)
    assert owner_client.get(url("snapshot_pin", site, snapshot)).status_code == 405
    owner_client.post(url("snapshot_pin", site, snapshot), {"pinned": "1"})
    assert Snapshot.objects.get(pk=snapshot.pk).pinned
    owner_client.post(url("snapshot_pin", site, snapshot), {"pinned": "0"})
    assert not Snapshot.objects.get(pk=snapshot.pk).pinned


def test_refusals_are_said_and_change_nothing(owner_client, site):
    running = make_snapshot(site, state=Snapshot.State.RUNNING)
    answer = owner_client.post(url("snapshot_pin", site, running), {"pinned": "1"})
    assert answer.status_code == 302
    assert said(answer) == ["This snapshot is still being taken."]
    answer = owner_client.post(url("snapshot_verify", site, running))
    assert said(answer)[-1] == "This snapshot is still being taken."
    assert not Snapshot.objects.get(pk=running.pk).pinned
    assert not site.operations.filter(kind=Operation.Kind.VERIFY_SNAPSHOT).exists()
    answer = owner_client.post(url("snapshot_delete", site, running), {"confirm": running.pk})
    assert answer.status_code == 409
    assert "still being taken" in answer.text
    assert Snapshot.objects.filter(pk=running.pk).exists()


def test_verify_is_queued(owner_client, site):
    snapshot = make_snapshot(site)
    answer = owner_client.post(url("snapshot_verify", site, snapshot))
    assert said(answer) == ["Verify started: every stored item is read back and checked."]
    snapshot.refresh_from_db()
    assert snapshot.verify_operation.kind == Operation.Kind.VERIFY_SNAPSHOT
    page = owner_client.get(site_url(site)).text
    assert "Verifying…" in page and "A verify of this snapshot is running." in page


def test_unknown_or_other_sites_snapshots_are_404(owner_client, site, owner):
    other_site = Site.objects.create(owner=owner, name="Second", wix_site_id="second")
    elsewhere = make_snapshot(other_site)
    wrong = url("snapshot_delete", site, elsewhere)  # another site of the same owner
    assert owner_client.get(wrong).status_code == 404
    missing = reverse("sites:snapshot_delete", args=[site.pk, uuid.uuid4()])
    assert owner_client.get(missing).status_code == 404


# --- Downloads and delete, of real snapshots ---------------------------------------------------


@pytest.fixture
def shop(emulator_url, settings, owner, tmp_path: Path):
    settings.WIX_ALLOWED_BASE_URLS = [emulator_url]
    settings.WBM_SNAPSHOT_STORAGE = str(tmp_path / "snapshots")
    site, _creds = connect_emulated_store(owner, emulator_url, name="Shop")
    return site


def taken(site: Site, owner) -> Snapshot:
    """A snapshot taken through the engine's own task code, here (as a worker runs it)."""
    operation = engine.snapshot_request(site=site, user=owner)
    engine.snapshot_operation_run(operation_id=operation.pk)
    snapshot = Snapshot.objects.get(operation=operation)
    assert snapshot.state == Snapshot.State.COMPLETE, snapshot.error
    return snapshot


def test_download_zip_and_csv_then_delete_after_confirming(owner_client, shop, owner):
    snapshot = taken(shop, owner)
    answer = owner_client.get(url("snapshot_download", shop, snapshot))
    assert answer.status_code == 200 and answer.streaming
    assert answer["Content-Type"] == "application/zip"
    assert answer["Content-Disposition"].startswith('attachment; filename="shop-snapshot-')
    archive = zipfile.ZipFile(io.BytesIO(b"".join(answer.streaming_content)))
    lines = archive.read("collections/Products.jsonl").decode().splitlines()
    assert len(lines) == next(c["items"] for c in snapshot.collections if c["id"] == "Products")
    assert all("_id" in json.loads(line) for line in lines)

    csv = owner_client.get(url("snapshot_csv", shop, snapshot, "Products"))
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    assert csv["Content-Disposition"].endswith('-products.csv"')
    assert b"".join(csv.streaming_content).startswith(b"_id")
    unknown = owner_client.get(url("snapshot_csv", shop, snapshot, "NoSuchCollection"))
    assert unknown.status_code == 404 and "holds no such collection" in unknown.text

    confirm = owner_client.get(url("snapshot_delete", shop, snapshot))
    assert "Delete the snapshot of" in confirm.text and str(snapshot.pk) in confirm.text
    unconfirmed = owner_client.post(url("snapshot_delete", shop, snapshot))
    assert unconfirmed.status_code == 400
    assert Snapshot.objects.filter(pk=snapshot.pk).exists()
    done = owner_client.post(url("snapshot_delete", shop, snapshot), {"confirm": snapshot.pk})
    assert done.status_code == 302 and said(done) == ["Snapshot deleted."]
    assert not Snapshot.objects.filter(pk=snapshot.pk).exists()


def test_a_download_of_a_snapshot_gone_from_storage_is_a_clear_404(owner_client, shop, owner):
    snapshot = taken(shop, owner)
    delete_snapshot(engine.site_store(shop.pk), snapshot.storage_id)
    answer = owner_client.get(url("snapshot_download", shop, snapshot))
    assert answer.status_code == 404
    assert "no longer in storage" in answer.text
    running = make_snapshot(shop, state=Snapshot.State.RUNNING)
    answer = owner_client.get(url("snapshot_download", shop, running))
    assert answer.status_code == 409 and "still being taken" in answer.text


# --- Settings ----------------------------------------------------------------------------------


def settings_post(**fields) -> dict:
    return {"with_backup": "on", "keep_last": 10, "daily": 7, "weekly": 4, "monthly": 12, **fields}


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"keep_last": -1}, "Enter 0 or more."),
        ({"daily": 100000}, "Enter at most 500."),
        ({"weekly": "two"}, "Enter a whole number."),
        (
            {"keep_last": 0, "daily": 0, "weekly": 0, "monthly": 0},
            "At least one retention rule must keep a snapshot.",
        ),
    ],
)
def test_invalid_settings_are_refused_and_change_nothing(owner_client, site, fields, error):
    before = Site.objects.filter(pk=site.pk).values().get()
    for confirmed in ("", "True"):
        answer = owner_client.post(
            url("snapshot_settings", site), settings_post(confirmed=confirmed, **fields)
        )
        assert answer.status_code == 400
        assert error in answer.text
    assert Site.objects.filter(pk=site.pk).values().get() == before


def test_new_rules_show_what_they_remove_before_they_are_saved(owner_client, site):
    assert 'name="keep_last"' in owner_client.get(url("snapshot_settings", site)).text
    snapshots = [
        make_snapshot(site, started_at=timezone.now() - timedelta(minutes=n)) for n in range(3)
    ]
    keep_one = settings_post(keep_last=1, daily=0, weekly=0, monthly=0, with_backup="")
    preview = owner_client.post(url("snapshot_settings", site), keep_one)
    assert preview.status_code == 200
    assert "These rules would delete 2 snapshots" in preview.text
    for removed in snapshots[1:]:
        assert f'data-snapshot="{removed.pk}"' in preview.text
    assert f'data-snapshot="{snapshots[0].pk}"' not in preview.text
    fresh = Site.objects.get(pk=site.pk)
    assert (fresh.snapshot_keep_last, fresh.snapshot_with_backup) == (10, True)  # not yet

    saved = owner_client.post(url("snapshot_settings", site), {**keep_one, "confirmed": "True"})
    assert saved.status_code == 302 and said(saved) == ["Snapshot settings saved."]
    fresh = Site.objects.get(pk=site.pk)
    assert (fresh.snapshot_keep_last, fresh.snapshot_keep_daily) == (1, 0)
    assert fresh.snapshot_with_backup is False


def test_the_live_fragment_redraws_a_running_snapshots_progress(owner_client, site, owner):
    operation = engine.snapshot_request(site=site, user=owner)
    page = owner_client.get(site_url(site)).text
    assert "Starting…" in page
    poll = html.unescape(re.search(r'id="site-live"[^>]*?hx-get="([^"]+)"', page, re.S)[1])
    assert owner_client.get(poll).status_code == 204  # nothing moved yet
    # What the worker writes after a page read: the progress, and the site's version moved.
    Snapshot.objects.filter(operation=operation).update(
        progress_collection="Products", progress_items=1000, progress_total=2500
    )
    engine.site_touch(site.pk)
    fragment = owner_client.get(poll, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "Products: 1,000 of 2,500 items" in fragment.text
    assert 'hx-get="' in fragment.text  # still polling while the snapshot runs
