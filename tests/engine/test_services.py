"""The engine's services driven step by step (no worker): submit, refresh, and every refusal.

The emulator answers over real HTTP; the steps a worker would take are called directly so each
transition can be looked at.
"""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from sites import connections, crypto, engine
from sites.models import Activity, Backup, Operation, Site
from wixemulator import services as emu
from wixemulator.models import EmuBackup, EmuRequestLog, EmuRestoration

from ..processes import wait_for


def advance(creds, seconds=61):
    emu.advance_clock(creds.site_id, seconds=seconds)


def drive(op: Operation) -> Operation:
    """What the worker does: submit, then refresh the site."""
    engine.operation_submit(operation_id=op.pk)
    engine.site_refresh(site_id=op.site_id)
    op.refresh_from_db()
    return op


def ready_backup(site, owner, creds) -> Backup:
    op = engine.operation_request(site=site, kind=Operation.Kind.CREATE_BACKUP, user=owner)
    engine.operation_submit(operation_id=op.pk)
    advance(creds)
    engine.site_refresh(site_id=site.pk)
    op.refresh_from_db()
    assert op.state == Operation.State.SUCCEEDED
    return site.backups.get(wix_id=op.backup_wix_id)


def test_connect_keeps_the_key_encrypted_with_only_its_last_four_characters_readable(store):
    site, creds = store
    site.refresh_from_db()
    assert creds.api_key not in site.secret_encrypted
    assert crypto.decrypt(site.secret_encrypted) == creds.api_key
    assert site.secret_hint == creds.api_key[-4:]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"api_key": "IST.unknown"}, "does not know this API key"),
        ({"wix_site_id": "00000000-0000-0000-0000-000000000000"}, "check the site id"),
    ],
)
def test_connect_refuses_bad_credentials_in_plain_words_and_keeps_nothing(
    emulator_url, settings, owner, change, message
):
    settings.WIX_ALLOWED_BASE_URLS = [emulator_url]
    creds = emu.create_site(name="Shop")
    fields = {"wix_site_id": creds.site_id, "api_key": creds.api_key, **change}
    with pytest.raises(connections.ConnectionProblem, match=message):
        connections.site_connect(owner=owner, name="Shop", api_base_url=emulator_url, **fields)
    assert not Site.objects.exists()


def test_connect_refuses_a_key_without_manage_data_backups(emulator_url, settings, owner):
    settings.WIX_ALLOWED_BASE_URLS = [emulator_url]
    creds = emu.create_site(name="Shop")
    weak = emu.add_api_key(creds.site_id, can_manage_backups=False)
    with pytest.raises(connections.ConnectionProblem, match="Manage Data Backups"):
        connections.site_connect(
            owner=owner,
            name="S",
            wix_site_id=creds.site_id,
            api_key=weak,
            api_base_url=emulator_url,
        )


def test_connect_refuses_a_base_url_outside_the_allowed_list(emulator_url, settings, owner):
    settings.WIX_ALLOWED_BASE_URLS = ["https://www.wixapis.com"]
    creds = emu.create_site(name="Shop")
    with pytest.raises(connections.ConnectionProblem, match="not allowed"):
        connections.site_connect(
            owner=owner,
            name="S",
            wix_site_id=creds.site_id,
            api_key=creds.api_key,
            api_base_url=emulator_url,
        )
    assert not EmuRequestLog.objects.exists()  # no request left for a host not allowed


def test_connect_says_when_wix_cannot_be_reached(settings, owner, transactional_db):
    settings.WIX_ALLOWED_BASE_URLS = ["http://127.0.0.1:9/sandbox"]
    with pytest.raises(connections.ConnectionProblem, match="could not be reached"):
        connections.site_connect(
            owner=owner,
            name="S",
            wix_site_id="x",
            api_key="k",
            api_base_url="http://127.0.0.1:9/sandbox",
        )


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
    assert [a.outcome for a in site.activities.order_by("created_at")] == [
        Activity.INFO,
        Activity.REQUESTED,
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
    emu.set_faults(creds.site_id, drop_rate=1.0, count=1)
    op = engine.operation_request(
        site=site, kind=Operation.Kind.RESTORE, user=owner, backup_wix_id=backup.wix_id
    )
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


def test_an_operation_wix_never_finishes_fails_after_the_deadline(store, owner, settings):
    site, _ = store
    op = drive(engine.operation_request(site=site, kind=Operation.Kind.CREATE_BACKUP, user=owner))
    assert op.state == Operation.State.SUBMITTED
    Operation.objects.filter(pk=op.pk).update(created_at=timezone.now() - timedelta(hours=7))
    engine.site_refresh(site_id=site.pk)
    op.refresh_from_db()
    assert op.state == Operation.State.FAILED
    assert "had not finished after 6 hours" in op.error


def test_polls_back_off_for_long_running_work(settings):
    settings.WBM_POLL_INTERVAL = 2
    settings.WBM_POLL_MAX_INTERVAL = 60
    assert engine.poll_delay(5) == timedelta(seconds=2)
    assert engine.poll_delay(300) == timedelta(seconds=30)
    assert engine.poll_delay(5000) == timedelta(seconds=60)


def test_sweep_claims_a_site_once_however_many_operations_are_due(store, owner):
    site, creds = store
    backup = ready_backup(site, owner, creds)
    for kind, extra in (
        (Operation.Kind.CREATE_BACKUP, {}),
        (Operation.Kind.RESTORE, {"backup_wix_id": backup.wix_id}),
    ):
        drive(engine.operation_request(site=site, kind=kind, user=owner, **extra))
    Operation.objects.filter(state=Operation.State.SUBMITTED).update(due_at=timezone.now())

    first = engine.sweep()
    second = engine.sweep()

    assert first.refreshes == [str(site.pk)]
    assert second.refreshes == []  # still claimed: no second refresh while one may run


def test_sync_sees_backups_made_outside_the_dashboard(store):
    site, creds = store
    auto = emu.take_auto_backup(creds.site_id)
    engine.site_refresh(site_id=site.pk, full=True)
    assert site.backups.get(wix_id=str(auto.id)).type == Backup.AUTO
    site.refresh_from_db()
    assert site.last_synced_at is not None
    assert site.last_sync_error == ""


def test_a_failed_sync_is_recorded_for_the_owner(store):
    site, creds = store
    emu.set_faults(creds.site_id, error_rate=1.0)
    engine.site_refresh(site_id=site.pk, full=True)
    site.refresh_from_db()
    assert site.last_sync_error == "Wix had a temporary problem; trying again shortly."


def test_rotation_re_encrypts_with_the_new_key_and_old_key_can_go(store, settings):
    from cryptography.fernet import Fernet

    site, creds = store
    new_key = Fernet.generate_key().decode()
    settings.SECRETS_ENCRYPTION_KEYS = [new_key, *settings.SECRETS_ENCRYPTION_KEYS]
    assert connections.secrets_rotate() == 1
    settings.SECRETS_ENCRYPTION_KEYS = [new_key]
    site.refresh_from_db()
    assert crypto.decrypt(site.secret_encrypted) == creds.api_key


def test_sweep_watches_pending_work_nobody_here_asked_for_until_it_ends(store, settings):
    site, creds = store
    settings.WBM_WATCH_INTERVAL = 10
    emu.take_auto_backup(creds.site_id)  # PENDING for a minute on this site
    engine.site_refresh(site_id=site.pk, full=True)
    assert site.backups.get().status == Backup.PENDING

    assert engine.sweep().watches == []  # just refreshed
    Site.objects.filter(pk=site.pk).update(last_synced_at=timezone.now() - timedelta(seconds=11))
    assert engine.sweep().watches == [str(site.pk)]
    assert engine.sweep().watches == []  # claimed: one refresh at a time

    advance(creds)
    engine.site_refresh(site_id=site.pk, full=True, claimed=True)
    assert site.backups.get().status == Backup.READY
    Site.objects.filter(pk=site.pk).update(last_synced_at=timezone.now() - timedelta(seconds=11))
    assert engine.sweep().watches == []  # nothing pending any more


def test_a_backup_made_while_a_refresh_was_listing_is_not_taken_for_deleted(store, owner):
    site, _ = store
    listed_at = timezone.now()  # a refresh asks Wix for the list ...
    op = engine.operation_request(site=site, kind=Operation.Kind.CREATE_BACKUP, user=owner)
    engine.operation_submit(operation_id=op.pk)  # ... a create lands meanwhile ...
    op.refresh_from_db()
    engine.mirror_backups(site, [], complete=True, listed_at=listed_at)  # ... without it
    assert site.backups.get(wix_id=op.backup_wix_id).status == Backup.PENDING
    engine.mirror_backups(site, [], complete=True, listed_at=timezone.now())  # later: gone
    assert site.backups.get(wix_id=op.backup_wix_id).status == Backup.DELETED


def test_sweep_claims_every_free_due_site_at_once_and_skips_those_held(store, owner):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    site, _ = store

    def due_sites(count: int) -> list[Site]:
        made = []
        for n in range(count):
            other = Site.objects.create(
                owner=owner,
                name=f"S{n}",
                wix_site_id=str(uuid.uuid4()),
                api_base_url=site.api_base_url,
            )
            Operation.objects.create(
                site=other,
                kind=Operation.Kind.CREATE_BACKUP,
                state=Operation.State.SUBMITTED,
                backup_wix_id=f"b{n}",
                due_at=timezone.now(),
            )
            made.append(other)
        return made

    def swept() -> tuple[list[str], int]:
        with CaptureQueriesContext(connection) as queries:
            result = engine.sweep()
        return result.refreshes, len(queries)

    one = due_sites(1)
    refreshes, few = swept()
    assert refreshes == [str(one[0].pk)]
    many = due_sites(6)
    held = many[0]
    Site.objects.filter(pk=held.pk).update(
        refresh_claimed_until=timezone.now() + timedelta(seconds=60)
    )
    refreshes, queries = swept()
    assert refreshes == sorted(str(s.pk) for s in many[1:])  # the held one is left alone
    assert queries == few  # not one query per site
    assert engine.sweep().refreshes == []  # all claimed now


def test_a_refresh_that_only_confirms_the_mirror_rewrites_none_of_it(store, owner):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    site, creds = store
    ready_backup(site, owner, creds)
    engine.site_refresh(site_id=site.pk, full=True)
    with CaptureQueriesContext(connection) as queries:
        engine.site_refresh(site_id=site.pk, full=True)
    upserts = [q["sql"] for q in queries if q["sql"].startswith("INSERT")]
    assert upserts == []  # nothing new from Wix: no row written again
    emu.take_auto_backup(creds.site_id)
    with CaptureQueriesContext(connection) as queries:
        engine.site_refresh(site_id=site.pk, full=True)
    upserts = [q["sql"] for q in queries if q["sql"].startswith("INSERT")]
    assert len(upserts) == 1 and '"sites_backup"' in upserts[0]  # the new one only
