"""Pins from a backup's row, and what every place names as the backup that goes next."""

from datetime import timedelta

from django.urls import reverse

from sites import rules
from sites.models import Backup, BackupPin, Operation
from tests.factories import make_backup, make_operation

from .test_rules import evicted_everywhere


def three_slots(site) -> list[Backup]:
    return [make_backup(site, age=timedelta(minutes=5, seconds=s)) for s in (30, 20, 10)]


def pin(owner_client, site, backup, pinned="1"):
    url = reverse("sites:backup_pin", args=[site.pk, backup.wix_id])
    return owner_client.post(url, {"pinned": pinned}, follow=True)


def test_with_the_oldest_pinned_every_place_names_the_oldest_unpinned(owner_client, site):
    oldest, middle, _newest = three_slots(site)
    answer = pin(owner_client, site, oldest)
    assert "Pinned: a new backup will never make Wix delete this one." in answer.text
    page = owner_client.get(reverse("sites:site", args=[site.pk])).text
    assert "the oldest is pinned: the next backup first deletes" in page
    confirmation = owner_client.get(reverse("sites:backup_now", args=[site.pk])).text
    assert "deleted first to free a slot" in confirmation
    assert evicted_everywhere(owner_client, site) == {
        "site page": middle.wix_id,
        "confirmation": middle.wix_id,
        "backup_site": middle.wix_id,
    }
    # backup_site asked for it: the rotation's delete of the middle one runs, and the page says
    # the next backup waits for it (rather than deleting another).
    page = owner_client.get(reverse("sites:site", args=[site.pk])).text
    assert "the next backup waits until the" in page
    assert f'data-evicts="{middle.wix_id}"' in page


def test_a_third_pin_is_refused_with_the_reason_in_the_row_and_on_posting(owner_client, site):
    oldest, middle, newest = three_slots(site)
    pin(owner_client, site, oldest)
    pin(owner_client, site, newest)
    page = owner_client.get(reverse("sites:site", args=[site.pk])).text
    row = page.split(f'data-backup="{middle.wix_id}"', 1)[1].split("</tr>", 1)[0]
    assert "At most 2 backups can be pinned" in row and "disabled" in row
    answer = pin(owner_client, site, middle)
    assert "At most 2 backups can be pinned" in answer.text
    assert BackupPin.objects.filter(site=site).count() == 2
    # Unpinned again: its row offers Pin, and the pin is gone.
    answer = pin(owner_client, site, newest, pinned="0")
    assert "Unpinned." in answer.text
    assert not BackupPin.objects.filter(backup_wix_id=newest.wix_id).exists()


def test_every_other_slot_pinned_refuses_the_backup_with_the_reason(owner_client, site):
    oldest, middle, newest = three_slots(site)
    pin(owner_client, site, oldest)
    pin(owner_client, site, newest)
    # The only unpinned one is being restored from: rotation never deletes it.
    make_operation(site, Operation.Kind.RESTORE, backup_wix_id=middle.wix_id)
    page = owner_client.get(reverse("sites:site", args=[site.pk])).text
    assert "The only unpinned backup is being restored from" in page
    assert "data-evicts" not in page
    confirmation = owner_client.get(reverse("sites:backup_now", args=[site.pk])).text
    assert "data-backup-refused" in confirmation
    answer = owner_client.post(reverse("sites:backup_now", args=[site.pk]), follow=True)
    assert "The only unpinned backup is being restored from" in answer.text
    assert not site.operations.filter(kind=Operation.Kind.CREATE_BACKUP).exists()
    assert not site.operations.filter(kind=Operation.Kind.DELETE_BACKUP).exists()


def test_a_pinned_backup_offers_unpin_and_no_delete(owner_client, site):
    (backup,) = [make_backup(site)]
    pin(owner_client, site, backup)
    page = owner_client.get(reverse("sites:site", args=[site.pk])).text
    row = page.split(f'data-backup="{backup.wix_id}"', 1)[1].split("</tr>", 1)[0]
    assert "data-pinned" in row and ">Unpin</button>" in row
    assert "This backup is pinned; unpin it before deleting it." in row


def test_automatic_and_unfinished_backups_offer_no_pin(owner_client, site):
    auto = make_backup(site, type=Backup.AUTO)
    pending = make_backup(site, status=Backup.PENDING)
    page = owner_client.get(reverse("sites:site", args=[site.pk])).text
    for backup in (auto, pending):
        row = page.split(f'data-backup="{backup.wix_id}"', 1)[1].split("</tr>", 1)[0]
        assert ">Pin</button>" not in row
    assert rules.pin_refusal(auto, 0).startswith("Only on-demand backups use a slot")
    answer = pin(owner_client, site, auto)
    assert "Only on-demand backups use a slot" in answer.text


def test_pin_answers_only_posts(owner_client, site):
    backup = make_backup(site)
    url = reverse("sites:backup_pin", args=[site.pk, backup.wix_id])
    assert owner_client.get(url).status_code == 405
    assert not BackupPin.objects.exists()
