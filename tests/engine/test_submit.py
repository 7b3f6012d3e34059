"""Requests and submits driven step by step (no worker): each transition, every refusal, and
what happens when Wix's answer is lost, refused or late. The emulator answers over real HTTP."""

import pytest
from django.utils import timezone

from sites import crypto, engine
from sites.models import Activity, Backup, Operation, Site
from wixemulator import services as emu
from wixemulator.models import EmuBackup, EmuRequestLog, EmuRestoration

from ..processes import wait_for
from .steps import advance, drive, ready_backup, take_safety


def test_a_backup_goes_queued_submitted_succeeded_and_is_mirrored(store, owner):
    site, creds = store
    op = engine.operation_request(site=site, kind=Operation.Kind.CREATE_BACKUP, user=owner)
    assert op.state == Operation.State.QUEUED

    engine.operation_submit(operation_id=op.pk)
    op.refresh_from_db()
    assert op.state == Operation.State.SUBMITTED
    assert site.backups.get(wix_id=op.backup_wix_id).status == Backup.PENDING

    engine.site_refresh(site_id=site.pk)
    op.refresh_from_db()
    assert op.state == Operation.State.SUBMITTED  # Wix is still working
    assert op.due_at > timezone.now()

    advance(creds)
    engine.site_refresh(site_id=site.pk)
    op.refresh_from_db()
    assert op.state == Operation.State.SUCCEEDED
    backup = site.backups.get(wix_id=op.backup_wix_id)
    assert backup.status == Backup.READY
    assert backup.size_in_bytes > 0
    # The snapshot taken with the backup (the site's setting) has activities of its own.
    backup_entries = site.activities.exclude(operation__kind=Operation.Kind.SNAPSHOT)
    # One entry per action: the request's, now saying how it went (after "Connected").
    assert [a.outcome for a in backup_entries.order_by("created_at")] == [
        Activity.INFO,
        Activity.SUCCEEDED,
    ]


def test_submitting_twice_sends_once(store, owner):
    site, _ = store
    op = engine.operation_request(site=site, kind=Operation.Kind.CREATE_BACKUP, user=owner)
    engine.operation_submit(operation_id=op.pk)
    engine.operation_submit(operation_id=op.pk)  # a redelivered task
    assert EmuBackup.objects.count() == 1


def test_a_repeated_click_returns_the_running_operation(store, owner):
    site, creds = store
    first = engine.operation_request(site=site, kind=Operation.Kind.CREATE_BACKUP, user=owner)
    again = engine.operation_request(site=site, kind=Operation.Kind.CREATE_BACKUP, user=owner)
    assert again.pk == first.pk
    backup = ready_backup(site, owner, creds)
    restore = engine.operation_request(
        site=site, kind=Operation.Kind.RESTORE, user=owner, backup_wix_id=backup.wix_id
    )
    assert (
        engine.operation_request(
            site=site, kind=Operation.Kind.RESTORE, user=owner, backup_wix_id=backup.wix_id
        ).pk
        == restore.pk
    )


def test_it_refuses_restore_of_a_pending_backup(store, owner):
    site, _ = store
    op = drive(engine.operation_request(site=site, kind=Operation.Kind.CREATE_BACKUP, user=owner))
    with pytest.raises(engine.OperationRefused, match="still being made; it can be restored"):
        engine.operation_request(
            site=site, kind=Operation.Kind.RESTORE, user=owner, backup_wix_id=op.backup_wix_id
        )


def test_it_refuses_a_second_restore_while_one_runs(store, owner):
    site, creds = store
    backup = ready_backup(site, owner, creds)
    engine.operation_request(
        site=site, kind=Operation.Kind.RESTORE, user=owner, backup_wix_id=backup.wix_id
    )
    with pytest.raises(engine.OperationRefused, match="already running"):
        engine.operation_request(
            site=site,
            kind=Operation.Kind.RESTORE_PARTIAL,
            user=owner,
            backup_wix_id=backup.wix_id,
            collections=["Products"],
        )


def test_it_refuses_to_delete_a_backup_a_running_restore_uses_or_a_pending_one(store, owner):
    site, creds = store
    backup = ready_backup(site, owner, creds)
    engine.operation_request(
        site=site, kind=Operation.Kind.RESTORE, user=owner, backup_wix_id=backup.wix_id
    )
    with pytest.raises(engine.OperationRefused, match="A restore from this backup is running"):
        engine.operation_request(
            site=site, kind=Operation.Kind.DELETE_BACKUP, user=owner, backup_wix_id=backup.wix_id
        )
    pending = drive(
        engine.operation_request(site=site, kind=Operation.Kind.CREATE_BACKUP, user=owner)
    )
    with pytest.raises(engine.OperationRefused, match="still being made"):
        engine.operation_request(
            site=site,
            kind=Operation.Kind.DELETE_BACKUP,
            user=owner,
            backup_wix_id=pending.backup_wix_id,
        )


@pytest.mark.parametrize(
    ("collections", "message"),
    [([], "at least one"), (["Nope"], "no collection named Nope"), (["Products"] * 2, "twice")],
)
def test_it_refuses_bad_collection_choices(store, owner, collections, message):
    site, creds = store
    backup = ready_backup(site, owner, creds)
    with pytest.raises(engine.OperationRefused, match=message):
        engine.operation_request(
            site=site,
            kind=Operation.Kind.RESTORE_PARTIAL,
            user=owner,
            backup_wix_id=backup.wix_id,
            collections=collections,
        )


def test_it_refuses_unknown_backups(store, owner):
    site, _ = store
    with pytest.raises(engine.OperationRefused, match=r"not \(or no longer\) listed"):
        engine.operation_request(
            site=site, kind=Operation.Kind.RESTORE, user=owner, backup_wix_id="nope"
        )
    assert not Operation.objects.exists()


def test_partial_restore_and_delete_reach_their_final_states(store, owner):
    site, creds = store
    backup = ready_backup(site, owner, creds)
    op = engine.operation_request(
        site=site,
        kind=Operation.Kind.RESTORE_PARTIAL,
        user=owner,
        backup_wix_id=backup.wix_id,
        collections=["Products"],
    )
    drive(op)
    advance(creds)
    engine.site_refresh(site_id=site.pk)
    op.refresh_from_db()
    assert op.state == Operation.State.SUCCEEDED
    assert EmuRestoration.objects.get().restoration_collections == [
        {"dataCollectionId": "Products"}
    ]

    delete = drive(
        engine.operation_request(
            site=site, kind=Operation.Kind.DELETE_BACKUP, user=owner, backup_wix_id=backup.wix_id
        )
    )
    assert delete.state == Operation.State.SUBMITTED
    advance(creds)
    engine.site_refresh(site_id=site.pk)
    delete.refresh_from_db()
    assert delete.state == Operation.State.SUCCEEDED
    assert site.backups.get(wix_id=backup.wix_id).status == Backup.DELETED


@pytest.mark.parametrize("fault", ["drop", "timeout"])
def test_a_create_whose_answer_was_lost_is_adopted_not_made_again(store, owner, settings, fault):
    site, creds = store
    settings.WIX_TIMEOUT = (2, 1)
    if fault == "drop":
        emu.set_faults(creds.site_id, drop_rate=1.0, count=1)
    else:
        emu.set_faults(creds.site_id, delay_rate=1.0, delay_seconds=1.5, count=1)
    op = engine.operation_request(site=site, kind=Operation.Kind.CREATE_BACKUP, user=owner)
    engine.operation_submit(operation_id=op.pk)
    op.refresh_from_db()
    # Ambiguous: never sent again; the refresh waits for what Wix makes (engine/landing.py).
    assert op.state == Operation.State.SUBMITTED and op.backup_wix_id == ""
    assert "not sent again" in op.error

    def adopted() -> str:
        engine.site_refresh(site_id=site.pk)
        return Operation.objects.get(pk=op.pk).backup_wix_id

    # The late answer's backup appears once the emulator's delayed request has done its work.
    backup_wix_id = wait_for(adopted, 30, interval=0.2, what="the lost backup to be adopted")
    made = EmuBackup.objects.get()  # one backup: the lost one, adopted
    assert backup_wix_id == str(made.id)


def test_a_restore_whose_answer_was_lost_is_adopted_not_started_again(store, owner):
    site, creds = store
    backup = ready_backup(site, owner, creds)
    op = engine.operation_request(
        site=site, kind=Operation.Kind.RESTORE, user=owner, backup_wix_id=backup.wix_id
    )
    take_safety(op)
    emu.set_faults(creds.site_id, drop_rate=1.0, count=1)
    engine.operation_submit(operation_id=op.pk)
    engine.operation_submit(operation_id=op.pk)  # the retry, once the backoff is due
    Operation.objects.filter(pk=op.pk).update(due_at=timezone.now())
    engine.operation_submit(operation_id=op.pk)
    op.refresh_from_db()
    assert op.state == Operation.State.SUBMITTED
    assert op.restoration_wix_id == str(EmuRestoration.objects.get().id)


def test_a_delete_whose_answer_was_lost_succeeds_once_wix_shows_the_backup_deleted(store, owner):
    site, creds = store
    backup = ready_backup(site, owner, creds)
    emu.set_faults(creds.site_id, drop_rate=1.0, count=1)
    op = engine.operation_request(
        site=site, kind=Operation.Kind.DELETE_BACKUP, user=owner, backup_wix_id=backup.wix_id
    )
    engine.operation_submit(operation_id=op.pk)
    op.refresh_from_db()
    assert op.state == Operation.State.QUEUED  # ambiguous: retried later
    advance(creds)  # meanwhile Wix finishes the delete and a refresh sees it
    engine.site_refresh(site_id=site.pk)
    assert site.backups.get(wix_id=backup.wix_id).status == Backup.DELETED
    engine.operation_submit(operation_id=op.pk)  # the retry
    op.refresh_from_db()
    assert op.state == Operation.State.SUCCEEDED, op.error
    deletes = EmuRequestLog.objects.filter(site__site_id=creds.site_id, method="DELETE")
    assert deletes.count() == 1  # never sent again


def test_a_rejected_key_fails_the_operation_in_plain_words_and_flags_the_site(store, owner):
    site, _ = store
    Site.objects.filter(pk=site.pk).update(secret_encrypted=crypto.encrypt("IST.revoked"))
    op = engine.operation_request(site=site, kind=Operation.Kind.CREATE_BACKUP, user=owner)
    engine.operation_submit(operation_id=op.pk)
    op.refresh_from_db()
    assert op.state == Operation.State.FAILED
    assert op.error.startswith("Wix rejected the API key")
    site.refresh_from_db()
    assert site.credentials_rejected
    entry = Activity.objects.get(operation=op, outcome=Activity.FAILED)
    assert (entry.message, entry.detail) == ("Back up now", op.error)


def test_transient_errors_are_retried_with_backoff_then_given_up(store, owner, settings):
    site, creds = store
    settings.WBM_MAX_SUBMIT_ATTEMPTS = 2
    emu.set_faults(creds.site_id, error_rate=1.0)
    op = engine.operation_request(site=site, kind=Operation.Kind.CREATE_BACKUP, user=owner)
    engine.operation_submit(operation_id=op.pk)
    op.refresh_from_db()
    assert op.state == Operation.State.QUEUED
    assert op.due_at > timezone.now()
    Operation.objects.filter(pk=op.pk).update(due_at=timezone.now())
    engine.operation_submit(operation_id=op.pk)
    op.refresh_from_db()
    assert op.state == Operation.State.FAILED
    assert op.error.startswith("Gave up after 2 attempts: Wix had a temporary problem")
    assert not EmuBackup.objects.exists()
