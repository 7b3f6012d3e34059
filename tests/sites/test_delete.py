"""Delete: after a confirmation, for a backup that can be deleted; otherwise the reason."""

from django.urls import reverse

from sites import engine
from sites.models import Backup, Operation, Restoration
from tests.factories import make_backup, make_operation, make_restoration


def url(site, backup) -> str:
    return reverse("sites:delete", args=[site.pk, backup.wix_id])


def test_delete_asks_for_confirmation_first(owner_client, site):
    backup = make_backup(site)
    html = owner_client.get(url(site, backup)).text
    assert "Delete the on-demand backup of" in html
    assert "This frees one of the 3 on-demand slots." in html
    assert ">Delete</button>" in html
    assert not Operation.objects.exists()


def test_confirming_requests_the_deletion_and_returns_to_the_site(owner_client, owner, site):
    backup = make_backup(site)
    answer = owner_client.post(url(site, backup))
    assert answer.status_code == 302
    assert answer["Location"] == reverse("sites:site", args=[site.pk])
    operation = site.operations.get()
    assert (
        operation.kind == Operation.Kind.DELETE_BACKUP and operation.backup_wix_id == backup.wix_id
    )
    assert operation.requested_by == owner
    page = owner_client.get(answer["Location"]).text
    assert "Deletion requested" in page
    assert "This backup is already being deleted." in page


def test_a_failed_backup_can_be_deleted(owner_client, site):
    backup = make_backup(site, status=Backup.FAILED)
    assert owner_client.post(url(site, backup)).status_code == 302


def test_a_pending_backup_cannot_be_deleted(owner_client, site):
    backup = make_backup(site, status=Backup.PENDING)
    page = owner_client.get(url(site, backup))
    assert "This backup is still being made" in page.text
    assert ">Delete</button>" not in page.text
    answer = owner_client.post(url(site, backup))
    assert answer.status_code == 409
    assert "This backup is still being made" in answer.text
    assert not Operation.objects.exists()


def test_a_backup_a_running_restore_uses_cannot_be_deleted(owner_client, site):
    backup = make_backup(site)
    make_restoration(site, backup, status=Restoration.PENDING)
    assert (
        "A restore from this backup is running; delete it afterwards."
        in owner_client.get(url(site, backup)).text
    )
    answer = owner_client.post(url(site, backup))
    assert answer.status_code == 409
    assert not Operation.objects.exists()


def test_a_backup_our_queued_restore_will_use_cannot_be_deleted(owner_client, site):
    backup = make_backup(site)
    make_operation(site, kind=Operation.Kind.RESTORE, backup_wix_id=backup.wix_id)
    assert owner_client.post(url(site, backup)).status_code == 409
    assert site.operations.filter(kind=Operation.Kind.DELETE_BACKUP).count() == 0


def test_a_deleted_backup_cannot_be_deleted_again(owner_client, site):
    backup = make_backup(site, status=Backup.DELETED)
    assert "already deleted" in owner_client.get(url(site, backup)).text
    assert owner_client.post(url(site, backup)).status_code == 409


def test_once_wix_has_deleted_it_the_slot_count_drops(owner_client, site):
    backup = make_backup(site)
    make_backup(site)
    site_url = reverse("sites:site", args=[site.pk])
    assert "<span data-slots>2 of 3</span>" in owner_client.get(site_url).text
    Backup.objects.filter(pk=backup.pk).update(status=Backup.DELETED)  # as the sync mirrors it
    engine.site_touch(site.pk)
    assert "<span data-slots>1 of 3</span>" in owner_client.get(site_url).text
