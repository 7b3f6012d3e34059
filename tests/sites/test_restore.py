"""Restore: a confirmation page with the backup's collections, a warning and the typed name."""

import re
from datetime import timedelta

from django.urls import reverse

from sites.models import Backup, Operation, Restoration
from tests.factories import make_backup, make_operation, make_restoration


def url(site, backup) -> str:
    return reverse("sites:restore", args=[site.pk, backup.wix_id])


def test_the_page_lists_every_collection_ticked_warns_and_asks_for_the_name(owner_client, site):
    backup = make_backup(site, age=timedelta(days=2))
    html = owner_client.get(url(site, backup)).text
    boxes = re.findall(
        r'<input type="checkbox" name="collections" value="([^"]+)"[^>]*checked', html
    )
    assert boxes == ["Products", "BlogPosts", "Customers"]
    assert "Blog Posts" in html
    assert "Restoring replaces the current content of the chosen collections" in html
    assert "Edits made on the site while the restore runs may be lost" in html
    assert "Type the site's name, <strong>Candle Shop</strong>, to confirm" in html
    assert ">Restore</button>" in html
    assert not Operation.objects.exists()


def test_all_collections_ticked_and_the_name_typed_requests_a_full_restore(
    owner_client, owner, site
):
    backup = make_backup(site)
    answer = owner_client.post(
        url(site, backup),
        {"collections": ["Products", "BlogPosts", "Customers"], "confirm_name": " Candle Shop "},
    )
    operation = site.operations.exclude(kind=Operation.Kind.SNAPSHOT).get()
    assert answer.status_code == 302
    assert answer["Location"] == reverse("sites:operation", args=[site.pk, operation.pk])
    assert operation.kind == Operation.Kind.RESTORE
    assert operation.backup_wix_id == backup.wix_id and operation.requested_by == owner
    assert operation.collections == []


def test_some_collections_ticked_requests_a_partial_restore_of_those(owner_client, site):
    backup = make_backup(site)
    owner_client.post(
        url(site, backup), {"collections": ["Customers", "Products"], "confirm_name": "Candle Shop"}
    )
    operation = site.operations.exclude(kind=Operation.Kind.SNAPSHOT).get()
    assert operation.kind == Operation.Kind.RESTORE_PARTIAL
    assert [c["dataCollectionId"] for c in operation.collections] == ["Customers", "Products"]


def test_a_wrongly_typed_name_is_refused(owner_client, site):
    backup = make_backup(site)
    answer = owner_client.post(
        url(site, backup), {"collections": ["Products"], "confirm_name": "candle shop"}
    )
    assert answer.status_code == 200
    assert "Type “Candle Shop” exactly, to confirm." in answer.text
    assert not Operation.objects.exists()


def test_no_collection_ticked_is_refused(owner_client, site):
    backup = make_backup(site)
    answer = owner_client.post(url(site, backup), {"confirm_name": "Candle Shop"})
    assert "Choose at least one collection to restore." in answer.text
    assert not Operation.objects.exists()


def test_a_collection_the_backup_does_not_hold_is_refused(owner_client, site):
    backup = make_backup(site)
    answer = owner_client.post(
        url(site, backup), {"collections": ["Orders"], "confirm_name": "Candle Shop"}
    )
    assert "Select a valid choice. Orders is not one of the available choices." in answer.text
    assert not Operation.objects.exists()


def test_a_pending_backup_cannot_be_restored(owner_client, site):
    backup = make_backup(site, status=Backup.PENDING)
    page = owner_client.get(url(site, backup))
    assert "This backup is still being made; it can be restored once it is ready." in page.text
    assert "<form" not in page.text.split("<main", 1)[1].split("</main>")[0]
    answer = owner_client.post(
        url(site, backup), {"collections": ["Products"], "confirm_name": "Candle Shop"}
    )
    assert answer.status_code == 409
    assert "This backup is still being made; it can be restored once it is ready." in answer.text
    assert not Operation.objects.exists()


def test_a_restore_while_another_runs_is_refused(owner_client, site):
    backup = make_backup(site)
    make_restoration(site, make_backup(site), status=Restoration.PENDING)
    page = owner_client.get(url(site, backup))
    assert "A restore of this site is already running" in page.text
    answer = owner_client.post(
        url(site, backup), {"collections": ["Products"], "confirm_name": "Candle Shop"}
    )
    assert answer.status_code == 409
    assert "A restore of this site is already running" in answer.text
    assert not Operation.objects.exists()


def test_a_second_click_returns_the_running_restore(owner_client, site):
    backup = make_backup(site)
    running = make_operation(site, kind=Operation.Kind.RESTORE, backup_wix_id=backup.wix_id)
    answer = owner_client.post(
        url(site, backup),
        {"collections": ["Products", "BlogPosts", "Customers"], "confirm_name": "Candle Shop"},
    )
    # A double click: the same restore is already on its way, so the owner is shown that one.
    assert answer.status_code == 302
    assert answer["Location"] == reverse("sites:operation", args=[site.pk, running.pk])
    assert list(site.operations.all()) == [running]
