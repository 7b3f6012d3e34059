"""The restore page's "Also take a Wix backup first": off by default, and before the owner confirms
it says what the backup would do with the slots, or why it would be skipped
(`rules.wix_safety_backup`)."""

import re
from datetime import timedelta

from django.urls import reverse

from sites.models import Activity, BackupPin, Operation, Snapshot
from tests.factories import make_backup


def url(site, backup) -> str:
    return reverse("sites:restore", args=[site.pk, backup.wix_id])


def three_slots(site):
    return [make_backup(site, age=timedelta(minutes=5, seconds=s)) for s in (30, 20, 10)]


def plan(html: str) -> str:
    found = re.search(r'<div class="muted small" id="wix-safety-plan">(.*?)</div>', html, re.S)
    assert found, "the plan is said on the form"
    return " ".join(found.group(1).split())


def box(html: str) -> str:
    found = re.search(r'<input type="checkbox" name="wix_backup"[^>]*>', html)
    assert found, "the box is on the form"
    return found.group(0)


def test_the_box_is_off_by_default_and_a_free_slot_deletes_nothing(owner_client, site):
    source = make_backup(site)
    html = owner_client.get(url(site, source)).text
    assert "Also take a Wix backup first" in html
    assert "checked" not in box(html) and "disabled" not in box(html)
    assert "A snapshot of the site is always taken first (no Wix slot used)" in html
    assert plan(html).startswith(
        "<p data-wix-backup-plan>It uses one of the site's 3 on-demand slots, and one is free: "
        "no backup is deleted."
    )


def test_with_every_slot_used_it_names_the_backup_wix_deletes(owner_client, site):
    oldest, _middle, newest = three_slots(site)
    said = plan(owner_client.get(url(site, newest)).text)
    assert f'data-goes="{oldest.wix_id}"' in said
    assert (
        "All 3 slots are used, so Wix deletes its oldest on-demand backup, the on-demand backup of"
        in said
    )


def test_with_the_source_the_oldest_the_rotation_deletes_the_next_one(owner_client, site):
    oldest, middle, _newest = three_slots(site)
    said = plan(owner_client.get(url(site, oldest)).text)
    assert f'data-goes="{middle.wix_id}"' in said
    assert (
        "which is pinned or is the backup being restored from, so the on-demand backup of" in said
    )
    assert "is deleted first to make room" in said


def test_with_the_source_the_oldest_and_the_others_pinned_it_says_it_is_skipped(
    owner_client, owner, site
):
    oldest, middle, newest = three_slots(site)
    for backup in (middle, newest):
        BackupPin.objects.create(site=site, backup_wix_id=backup.wix_id, pinned_by=owner)
    html = owner_client.get(url(site, oldest)).text
    assert "disabled" in box(html)
    assert plan(html) == (
        "<p data-wix-backup-skipped>The Wix backup would be skipped: The oldest backup is being "
        "restored from and every other slot holds a pinned or unfinished backup, so a Wix "
        "backup would make Wix delete the backup being restored from or a pinned one; the "
        "restore relies on its safety snapshot.</p>"
    )


def test_ticked_the_restore_waits_for_a_backup_asked_by_the_owner(owner_client, owner, site):
    source = make_backup(site)
    answer = owner_client.post(
        url(site, source),
        {
            "collections": ["Products", "BlogPosts", "Customers"],
            "wix_backup": "on",
            "confirm_name": "Candle Shop",
        },
    )
    assert answer.status_code == 302
    restore = site.operations.get(kind=Operation.Kind.RESTORE)
    create = restore.after
    assert create.kind == Operation.Kind.CREATE_BACKUP and create.requested_by == owner
    assert site.activities.filter(outcome=Activity.INFO, kind=Activity.RESTORE).count() == 1


def test_left_unticked_no_backup_is_asked(owner_client, site):
    source = make_backup(site)
    owner_client.post(
        url(site, source),
        {"collections": ["Products", "BlogPosts", "Customers"], "confirm_name": "Candle Shop"},
    )
    restore = site.operations.get(kind=Operation.Kind.RESTORE)
    assert restore.after is None
    assert not site.operations.filter(kind=Operation.Kind.CREATE_BACKUP).exists()


def test_a_snapshot_restore_page_offers_it_too(owner_client, owner, site):
    make_backup(site)
    snapshot = Snapshot.objects.create(
        site=site,
        storage_id="s-1",
        state=Snapshot.State.COMPLETE,
        collections=[{"id": "Products", "status": "complete", "items": 3}],
    )
    page = reverse("sites:snapshot_restore", args=[site.pk, snapshot.pk])
    html = owner_client.get(page).text
    assert "checked" not in box(html)
    assert "one is free: no backup is deleted" in plan(html)
    owner_client.post(
        page,
        {
            "mode": "merge",
            "collections": ["Products"],
            "wix_backup": "on",
            "confirm_name": "Candle Shop",
        },
    )
    restore = site.operations.get(kind=Operation.Kind.RESTORE_SNAPSHOT)
    assert restore.after.kind == Operation.Kind.CREATE_BACKUP
    assert restore.after.requested_by == owner
