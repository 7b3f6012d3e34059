"""The refresh driven step by step: one list serves the site's operations, the mirror follows
Wix (and writes nothing when Wix only confirms it), and long or failing work ends clearly."""

from datetime import timedelta

from django.utils import timezone

from sites import engine
from sites.models import Backup, Operation
from wixemulator import services as emu

from .steps import drive, ready_backup


def test_polls_back_off_for_long_running_work(settings):
    settings.WBM_POLL_INTERVAL = 2
    settings.WBM_POLL_MAX_INTERVAL = 60
    assert engine.poll_delay(5) == timedelta(seconds=2)
    assert engine.poll_delay(300) == timedelta(seconds=30)
    assert engine.poll_delay(5000) == timedelta(seconds=60)


def test_an_operation_wix_never_finishes_fails_after_the_deadline(store, owner, settings):
    site, _ = store
    op = drive(engine.operation_request(site=site, kind=Operation.Kind.CREATE_BACKUP, user=owner))
    assert op.state == Operation.State.SUBMITTED
    Operation.objects.filter(pk=op.pk).update(created_at=timezone.now() - timedelta(hours=7))
    engine.site_refresh(site_id=site.pk)
    op.refresh_from_db()
    assert op.state == Operation.State.FAILED
    assert "had not finished after 6 hours" in op.error


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
    assert len(upserts) == 2 and '"sites_backup"' in upserts[0]  # the new one only,
    assert '"sites_activity"' in upserts[1]  # and its arrival in the activity log
