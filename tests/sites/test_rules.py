"""Each rule has one definition (sites/rules.py): every place that states it says the same."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse

from sites import rules
from sites.models import Backup, Operation, Restoration
from tests.factories import make_backup, make_operation, make_restoration


def three_slots_used(site) -> list[Backup]:
    """Three READY on-demand backups a few seconds apart, oldest first."""
    return [
        make_backup(site, age=timedelta(minutes=5, seconds=seconds)) for seconds in (30, 20, 10)
    ]


def evicted_everywhere(owner_client, site) -> dict[str, str]:
    """The backup each place names as the one Wix would delete ("" where none is named)."""
    site_page = owner_client.get(reverse("sites:site", args=[site.pk])).text
    confirmation = owner_client.get(reverse("sites:backup_now", args=[site.pk])).text
    err = io.StringIO()
    site.operations.all().delete()  # backup_site asks for a backup: keep the pages' state apart
    call_command("backup_site", str(site.pk), stderr=err, stdout=io.StringIO())

    def named(text: str, marker: str) -> str:
        if marker not in text:
            return ""
        return text.split(marker, 1)[1].split('"', 1)[0]

    return {
        "site page": named(site_page, 'data-evicts="'),
        "confirmation": named(confirmation, 'name="evicts" value="'),
        "backup_site": err.getvalue().rsplit("(", 1)[-1].rstrip(").\n") if err.getvalue() else "",
    }


def test_the_site_page_the_confirmation_and_backup_site_name_the_same_evicted_backup(
    owner_client, site
):
    oldest, _, _ = three_slots_used(site)
    named = evicted_everywhere(owner_client, site)
    assert named == {
        "site page": oldest.wix_id,
        "confirmation": oldest.wix_id,
        "backup_site": oldest.wix_id,
    }


def test_a_fourth_slot_setting_changes_all_three(owner_client, site, settings):
    three_slots_used(site)
    settings.WBM_ON_DEMAND_SLOTS = 4
    assert evicted_everywhere(owner_client, site) == {
        "site page": "",
        "confirmation": "",
        "backup_site": "",
    }
    page = owner_client.get(reverse("sites:site", args=[site.pk])).text
    assert "3 of 4" in page


def test_an_automatic_backup_never_counts_nor_is_evicted(site):
    make_backup(site, type=Backup.AUTO, age=timedelta(days=1))
    make_backup(site, age=timedelta(hours=1))
    assert rules.backup_evicted_next(site) is None


@pytest.mark.parametrize("status", [Operation.State.QUEUED, Operation.State.SUBMITTED])
def test_it_refuses_restore_of_a_backup_being_deleted(site, status):
    backup = make_backup(site)
    make_operation(site, Operation.Kind.DELETE_BACKUP, state=status, backup_wix_id=backup.wix_id)
    work = rules.in_flight(site)
    assert "being deleted" in rules.restore_refusal(backup, work)
    assert rules.delete_refusal(backup, work) == "This backup is already being deleted."
    actions = rules.backup_actions(backup, work)
    assert not actions.can_restore and not actions.can_delete


def test_it_refuses_delete_of_a_backup_a_restore_reads_from_ours_or_wixs(site):
    ours, theirs, other = make_backup(site), make_backup(site), make_backup(site)
    make_operation(site, Operation.Kind.RESTORE, backup_wix_id=ours.wix_id)
    make_restoration(site, theirs, status=Restoration.PENDING)
    work = rules.in_flight(site)
    for backup in (ours, theirs):
        assert "restore from this backup is running" in rules.delete_refusal(backup, work)
    assert rules.delete_refusal(other, work) == ""
    # One restore at a time per site: every backup's Restore waits.
    assert "already running" in rules.restore_refusal(other, work)


def test_finished_operations_refuse_nothing(site):
    backup = make_backup(site)
    make_operation(
        site,
        Operation.Kind.DELETE_BACKUP,
        state=Operation.State.FAILED,
        backup_wix_id=backup.wix_id,
    )
    work = rules.in_flight(site)
    assert rules.restore_refusal(backup, work) == ""
    assert rules.delete_refusal(backup, work) == ""


def test_a_worker_asking_about_its_own_operation_is_not_refused_by_it(site):
    backup = make_backup(site)
    delete = make_operation(site, Operation.Kind.DELETE_BACKUP, backup_wix_id=backup.wix_id)
    assert rules.delete_refusal(backup, rules.in_flight(site).without(delete)) == ""


def test_a_new_backup_never_makes_the_backup_being_restored_from_go(site):
    oldest, middle, _newest = three_slots_used(site)
    make_operation(site, Operation.Kind.RESTORE, backup_wix_id=oldest.wix_id)
    plan = rules.next_backup(site)
    # Wix would evict the oldest: the rotation deletes the next one first instead.
    assert (plan.goes, plan.rotate, plan.refusal) == (middle, True, "")


def test_a_wix_safety_backup_keeps_its_source_and_says_when_it_is_skipped(site):
    oldest, middle, newest = three_slots_used(site)
    slots = rules.slots_with_pins(site)
    work = rules.in_flight(site)
    assert rules.wix_safety_backup(slots, work, newest).goes == oldest
    taken = rules.wix_safety_backup(slots, work, oldest)
    assert (taken.goes, taken.plan.rotate, taken.skip) == (middle, True, "")
    for backup in (middle, newest):
        site.pins.create(backup_wix_id=backup.wix_id)
    skipped = rules.wix_safety_backup(rules.slots_with_pins(site), work, oldest)
    assert skipped.goes is None
    assert skipped.skip.startswith("The oldest backup is being restored from")
    # Only its source and pinned backups are kept: restoring the newest, Wix evicts the oldest.
    assert rules.wix_safety_backup(rules.slots_with_pins(site), work, newest).goes == oldest
