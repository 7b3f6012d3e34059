"""Pins and the rotation inside Wix's slots, step by step against the emulator (engine/rotation.py):
a new backup never makes Wix evict a pinned one; the product deletes the oldest unpinned backup
first and sends the create only once Wix has freed the slot."""

import uuid

import pytest
from django.db import transaction

from sites import engine, rules
from sites.models import Activity, Backup, Operation
from wixemulator import services as emu
from wixemulator.models import EmuBackup

from .steps import advance, ready_backup


@pytest.fixture
def three(store, owner):
    """Three READY on-demand backups, oldest first: every slot used."""
    site, creds = store
    return site, creds, [ready_backup(site, owner, creds) for _ in range(3)]


def wix_status(creds, backup: Backup) -> str:
    with transaction.atomic():
        site = emu.lock_site(creds.site_id)
        return EmuBackup.objects.get(pk=backup.wix_id).status_at(site.now())


def pin(site, backup, owner, pinned=True):
    engine.backup_pin(site=site, backup_wix_id=backup.wix_id, pinned=pinned, user=owner)


def test_with_the_oldest_pinned_the_oldest_unpinned_is_deleted_first_and_pinned_ones_survive(
    three, owner
):
    site, creds, (oldest, middle, newest) = three
    pin(site, oldest, owner)
    pin(site, newest, owner)
    # What the site page and the confirmation name: the one that will actually go.
    assert rules.backup_evicted_next(site) == middle

    create = engine.operation_request(site=site, kind=Operation.Kind.CREATE_BACKUP, user=owner)

    delete = create.after
    assert (delete.kind, delete.backup_wix_id) == (Operation.Kind.DELETE_BACKUP, middle.wix_id)
    # The create waits: a submit (its own hand-over, or a sweep) leaves it alone while the
    # delete runs, and nothing is sent to Wix.
    engine.operation_submit(operation_id=create.pk)
    assert str(create.pk) not in engine.sweep().submits
    create.refresh_from_db()
    assert (create.state, create.attempts, create.sent_at) == (Operation.State.QUEUED, 0, None)

    engine.operation_submit(operation_id=delete.pk)
    advance(creds)
    engine.site_refresh(site_id=site.pk)
    delete.refresh_from_db()
    assert delete.state == Operation.State.SUCCEEDED
    assert wix_status(creds, middle) == "DELETED"

    # The delete ended: the create is due at once, and now sent.
    assert str(create.pk) in engine.sweep().submits
    engine.operation_submit(operation_id=create.pk)
    advance(creds)
    engine.site_refresh(site_id=site.pk)
    create.refresh_from_db()
    assert create.state == Operation.State.SUCCEEDED, create.error
    assert wix_status(creds, oldest) == "READY"
    assert wix_status(creds, newest) == "READY"
    assert wix_status(creds, site.backups.get(wix_id=create.backup_wix_id)) == "READY"
    # The log says why the unpinned one went.
    assert site.activities.filter(
        kind=Activity.DELETE, message__startswith="Rotation:", backup_at=middle.requested_at
    ).exists()


def test_with_the_oldest_unpinned_wix_evicts_it_as_always_and_no_rotation_is_recorded(three, owner):
    site, _creds, (oldest, middle, _newest) = three
    pin(site, middle, owner)
    create = engine.operation_request(site=site, kind=Operation.Kind.CREATE_BACKUP, user=owner)
    assert create.after is None
    assert rules.backup_evicted_next(site) == oldest


def test_a_rotation_refused_when_the_only_unpinned_backup_is_being_restored_from(three, owner):
    site, _creds, (oldest, middle, newest) = three
    pin(site, oldest, owner)
    pin(site, newest, owner)
    engine.operation_request(
        site=site, kind=Operation.Kind.RESTORE, user=owner, backup_wix_id=middle.wix_id
    )

    with pytest.raises(engine.OperationRefused, match="being restored from"):
        engine.operation_request(site=site, kind=Operation.Kind.CREATE_BACKUP, user=owner)

    assert not site.operations.filter(kind=Operation.Kind.CREATE_BACKUP, state="queued").exists()
    assert not site.operations.filter(kind=Operation.Kind.DELETE_BACKUP).exists()
    refused = site.activities.get(message="Back up now (refused)")
    assert "pinned" in refused.detail


def test_a_rotation_delete_that_fails_fails_the_backup_and_nothing_is_sent(three, owner):
    site, creds, (oldest, middle, newest) = three
    pin(site, oldest, owner)
    pin(site, newest, owner)
    create = engine.operation_request(site=site, kind=Operation.Kind.CREATE_BACKUP, user=owner)
    # A restore of that backup started in Wix's own screens, not yet seen here: Wix refuses the
    # delete (BACKUP_IN_USE).
    with transaction.atomic():
        store = emu.lock_site(creds.site_id)
        emu.restore(store, store.now(), uuid.UUID(middle.wix_id), None)

    engine.operation_submit(operation_id=create.after_id)
    create.after.refresh_from_db()
    assert create.after.state == Operation.State.FAILED
    engine.operation_submit(operation_id=create.pk)

    create.refresh_from_db()
    assert create.state == Operation.State.FAILED
    assert create.error.startswith("No slot could be freed")
    assert create.sent_at is None
    assert EmuBackup.objects.filter(site=creds.site_id).count() == 3  # no create reached Wix


def test_pins_at_most_all_slots_but_one_and_only_of_ready_on_demand_backups(three, owner):
    site, _creds, (oldest, middle, newest) = three
    pin(site, oldest, owner)
    pin(site, middle, owner)
    with pytest.raises(engine.OperationRefused, match="At most 2 backups can be pinned"):
        pin(site, newest, owner)
    pin(site, oldest, owner, pinned=False)
    pin(site, newest, owner)  # a pin freed is a pin to use
    assert set(site.pins.values_list("backup_wix_id", flat=True)) == {
        middle.wix_id,
        newest.wix_id,
    }
    auto = Backup.objects.create(
        site=site, wix_id="auto-1", status="READY", type="AUTO", requested_at=oldest.requested_at
    )
    with pytest.raises(engine.OperationRefused, match="automatic"):
        pin(site, auto, owner)
    with pytest.raises(engine.OperationRefused, match="pinned; unpin it"):
        engine.operation_request(
            site=site, kind=Operation.Kind.DELETE_BACKUP, user=owner, backup_wix_id=middle.wix_id
        )
