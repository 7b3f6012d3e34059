"""The restore pages of snapshots: a snapshot's restore form (modes, collections, items, the typed
name), the modes offered on a Wix backup that has a snapshot, a restore's facts and its Undo.
Rows are written directly; what the worker does is tests/engine/test_restore_snapshot.py's."""

import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from sites.models import Operation, RestoreRun, Site, Snapshot
from tests.factories import make_backup, make_site

COLLECTIONS = [
    {"id": "Customers", "status": "complete", "items": 3},
    {"id": "Products", "status": "complete", "items": 5},
]


def make_snapshot(site: Site, **fields) -> Snapshot:
    values = {
        "state": Snapshot.State.COMPLETE,
        "storage_id": uuid.uuid4().hex,
        "collections": COLLECTIONS,
        **fields,
    }
    return Snapshot.objects.create(site=site, **values)


def restore_url(site, snapshot) -> str:
    return reverse("sites:snapshot_restore", args=[site.pk, snapshot.pk])


def restores(site):
    return site.operations.filter(kind=Operation.Kind.RESTORE_SNAPSHOT)


def test_the_page_offers_the_three_modes_merge_first_the_collections_and_the_typed_name(
    owner_client, site
):
    snapshot = make_snapshot(site)
    page = owner_client.get(restore_url(site, snapshot)).text
    assert "checked" in page.split('value="merge"')[1][:60]  # the mode that loses nothing
    for label in ("Whole collections", "Merge", "Chosen items"):
        assert f"<strong>{label}</strong>" in page
    assert 'name="collections" value="Customers"' in page
    assert "Type the site's name, <strong>Candle Shop</strong>, to confirm" in page
    assert not Operation.objects.exists()


def test_a_merge_restore_is_recorded_with_its_safety_snapshot(owner_client, owner, site):
    snapshot = make_snapshot(site)
    answer = owner_client.post(
        restore_url(site, snapshot),
        {"mode": "merge", "collections": ["Products"], "confirm_name": "Candle Shop"},
    )
    operation = restores(site).get()
    assert answer.status_code == 302
    assert answer["Location"] == reverse("sites:operation", args=[site.pk, operation.pk])
    run = RestoreRun.objects.get(operation=operation)
    assert (run.mode, run.source, run.collections) == ("merge", snapshot, ["Products"])
    assert run.safety.state == Snapshot.State.RUNNING and run.safety.operation.requested_by == owner
    assert operation.requested_by == owner
    # The site's snapshots say which one is the restore's safety snapshot.
    page = owner_client.get(reverse("sites:site", args=[site.pk])).text
    row = page.split(f'data-snapshot="{run.safety.pk}"')[1].split("</tr>")[0]
    operation_url = reverse("sites:operation", args=[site.pk, operation.pk])
    assert f'<a href="{operation_url}" data-safety-for>safety snapshot of a restore</a>' in row


def test_chosen_items_are_read_one_per_line(owner_client, site):
    snapshot = make_snapshot(site)
    owner_client.post(
        restore_url(site, snapshot),
        {
            "mode": "items",
            "items": "Products product-0001\r\n\r\nCustomers  customer 7 \nProducts product-0002",
            "confirm_name": "Candle Shop",
        },
    )
    run = RestoreRun.objects.get(operation=restores(site).get())
    assert run.items == {
        "Customers": ["customer 7"],
        "Products": ["product-0001", "product-0002"],
    }
    assert run.collections == ["Customers", "Products"]


@pytest.mark.parametrize(
    ("form", "said"),
    [
        ({"mode": "merge", "collections": ["Products"], "confirm_name": "candle shop"}, "exactly"),
        ({"mode": "merge", "confirm_name": "Candle Shop"}, "Choose at least one collection"),
        ({"mode": "items", "items": "", "confirm_name": "Candle Shop"}, "at least one item"),
        ({"mode": "items", "items": "lonely", "confirm_name": "Candle Shop"}, "Line 1 is not"),
        ({"mode": "items", "items": "Orders x", "confirm_name": "Candle Shop"}, "no collection"),
        ({"mode": "everything", "confirm_name": "Candle Shop"}, "Select a valid choice"),
    ],
)
def test_bad_input_is_refused_and_records_nothing(owner_client, site, form, said):
    snapshot = make_snapshot(site)
    answer = owner_client.post(restore_url(site, snapshot), form)
    assert answer.status_code in (400, 409)
    assert said in answer.text
    assert not Operation.objects.exists() and not RestoreRun.objects.exists()


def test_a_collection_the_snapshot_read_only_in_part_cannot_be_restored_whole(owner_client, site):
    partial = [*COLLECTIONS[:1], {"id": "Products", "status": "missing", "reason": "gone"}]
    snapshot = make_snapshot(site, collections=partial)
    answer = owner_client.post(
        restore_url(site, snapshot),
        {"mode": "whole", "collections": ["Products"], "confirm_name": "Candle Shop"},
    )
    assert answer.status_code == 409
    assert "could not read all of Products" in answer.text
    assert not Operation.objects.exists()


def test_another_sites_snapshot_in_the_url_or_the_form_is_a_404(owner_client, owner, site):
    theirs = make_snapshot(make_site(owner, name="Other"))
    form = {"mode": "merge", "collections": ["Products"], "confirm_name": "Candle Shop"}
    assert owner_client.get(restore_url(site, theirs)).status_code == 404
    assert owner_client.post(restore_url(site, theirs), form).status_code == 404
    assert not Operation.objects.exists()


def test_a_second_restore_while_one_runs_is_refused_with_why(owner_client, site):
    snapshot = make_snapshot(site)
    form = {"mode": "merge", "collections": ["Products"], "confirm_name": "Candle Shop"}
    owner_client.post(restore_url(site, snapshot), form)
    page = owner_client.get(restore_url(site, snapshot)).text
    assert "A restore of this site is already running; wait for it to end." in page
    answer = owner_client.post(restore_url(site, snapshot), {**form, "mode": "whole"})
    assert answer.status_code == 409
    assert restores(site).count() == 1


def test_a_wix_backup_with_a_snapshot_offers_its_modes_and_keeps_wix_the_default(
    owner_client, site
):
    backup = make_backup(site)
    url = reverse("sites:restore", args=[site.pk, backup.wix_id])
    assert 'name="mode"' not in owner_client.get(url).text  # no snapshot: as before
    snapshot = make_snapshot(site, backup=backup)
    page = owner_client.get(url).text
    assert "<strong>Wix restore</strong>" in page and "<strong>Merge</strong>" in page
    assert "checked" in page.split('value="wix"')[1][:60]
    everything = ["Products", "BlogPosts", "Customers"]
    owner_client.post(
        url, {"mode": "wix", "collections": everything, "confirm_name": "Candle Shop"}
    )
    assert site.operations.filter(kind=Operation.Kind.RESTORE).count() == 1
    Operation.objects.filter(kind=Operation.Kind.RESTORE).update(
        state=Operation.State.SUCCEEDED, finished_at=timezone.now()
    )
    owner_client.post(
        url, {"mode": "merge", "collections": ["Products"], "confirm_name": "Candle Shop"}
    )
    run = RestoreRun.objects.get(operation=restores(site).get())
    assert (run.source, run.mode) == (snapshot, "merge")


def finished_restore(site) -> Operation:
    """A restore from a snapshot that ended, its safety snapshot complete."""
    source, safety = make_snapshot(site), make_snapshot(site)
    operation = Operation.objects.create(
        site=site,
        kind=Operation.Kind.RESTORE_SNAPSHOT,
        state=Operation.State.SUCCEEDED,
        finished_at=timezone.now(),
        collections=[{"dataCollectionId": "Products"}],
    )
    RestoreRun.objects.create(
        operation=operation,
        mode="merge",
        source=source,
        safety=safety,
        collections=["Products"],
        counts={"Products": {"restored": 2, "reverted": 1, "removed": 0, "failed": 0}},
    )
    return operation


def test_a_finished_restore_shows_its_counts_and_offers_undo_after_confirming(owner_client, site):
    operation = finished_restore(site)
    page = owner_client.get(reverse("sites:operation", args=[site.pk, operation.pk])).text
    assert "Products: 2 brought back, 1 reverted, 0 removed" in page
    undo_url = reverse("sites:restore_undo", args=[site.pk, operation.pk])
    assert f'href="{undo_url}"' in page and "Undo this restore" in page

    confirm = owner_client.get(undo_url).text
    assert "Undo puts Products back as they were just before the restore" in confirm
    assert owner_client.post(undo_url, {}).status_code == 400
    assert not restores(site).exclude(pk=operation.pk).exists()
    answer = owner_client.post(undo_url, {"confirm": str(operation.pk)})
    undo = restores(site).exclude(pk=operation.pk).get()
    assert answer["Location"] == reverse("sites:operation", args=[site.pk, undo.pk])
    run = RestoreRun.objects.get(operation=undo)
    assert run.undo_of == operation and run.mode == "whole"
    assert run.source == RestoreRun.objects.get(operation=operation).safety
    page = owner_client.get(reverse("sites:operation", args=[site.pk, operation.pk])).text
    assert "Being undone" in page and "Undo this restore</a>" not in page


def test_undo_is_not_offered_while_the_restore_runs_or_without_its_safety_snapshot(
    owner_client, site
):
    operation = finished_restore(site)
    Operation.objects.filter(pk=operation.pk).update(state=Operation.State.QUEUED)
    undo_url = reverse("sites:restore_undo", args=[site.pk, operation.pk])
    page = owner_client.get(undo_url).text
    assert "This restore is still running; it can be undone once it ends." in page
    assert owner_client.post(undo_url, {"confirm": str(operation.pk)}).status_code == 409
    Operation.objects.filter(pk=operation.pk).update(state=Operation.State.SUCCEEDED)
    RestoreRun.objects.filter(operation=operation).update(safety=None)
    page = owner_client.get(reverse("sites:operation", args=[site.pk, operation.pk])).text
    assert "This restore has no safety snapshot to go back to." in page
    assert restores(site).count() == 1


def test_the_site_page_lists_restores_from_snapshots_with_their_undo(owner_client, site):
    operation = finished_restore(site)
    page = owner_client.get(reverse("sites:site", args=[site.pk])).text
    row = page.split(f'data-restore="{operation.pk}"')[1].split("</tr>")[0]
    assert "Succeeded" in row and "Merge, the snapshot of" in row
    assert "2 brought back, 1 reverted, 0 removed" in row
    assert reverse("sites:restore_undo", args=[site.pk, operation.pk]) in row
