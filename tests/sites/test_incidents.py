"""Incidents: one open per site and cause, opened once and resolved once, each with its alert in
the outbox; "needs attention" is the open incidents (one rule)."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from sites import engine
from sites.engine.states import finish
from sites.models import (
    Alert,
    AlertChannel,
    AlertDelivery,
    Backup,
    Incident,
    Operation,
    Site,
    Snapshot,
)
from tests.factories import make_backup, make_operation, make_site


def failed(site, kind=Operation.Kind.CREATE_BACKUP, error="Wix could not complete the backup."):
    op = make_operation(site, kind=kind, state=Operation.State.SUBMITTED)
    op.site = site
    submitted = Operation.State.SUBMITTED
    assert finish(op, state=Operation.State.FAILED, error=error, from_state=submitted)
    return op


def succeeded(site, kind=Operation.Kind.CREATE_BACKUP):
    op = make_operation(site, kind=kind, state=Operation.State.SUBMITTED)
    op.site = site
    assert finish(op, state=Operation.State.SUCCEEDED, from_state=Operation.State.SUBMITTED)
    return op


def alerts(site) -> list[tuple[str, str]]:
    return list(Alert.objects.filter(site=site).order_by("created_at").values_list("kind", "text"))


def test_a_failed_backup_opens_one_incident_and_the_next_good_backup_resolves_it(site):
    make_backup(site, type=Backup.AUTO)
    first = failed(site)
    failed(site)  # a second failure while it is open: still one incident, one alert
    # The same end seen twice (a redelivered task): the compare-and-swap writes nothing.
    assert not finish(first, state=Operation.State.FAILED, from_state=Operation.State.SUBMITTED)
    (incident,) = Incident.objects.filter(site=site)
    assert incident.cause == Incident.Cause.BACKUP_FAILED and incident.resolved_at is None
    assert incident.text == "A backup failed: Wix could not complete the backup."
    succeeded(site, kind=Operation.Kind.DELETE_BACKUP)  # another kind resolves nothing
    assert Incident.objects.get(pk=incident.pk).resolved_at is None
    succeeded(site)
    assert Incident.objects.get(pk=incident.pk).resolved_at is not None
    assert alerts(site) == [
        ("opened", f"{site.name}: A backup failed: Wix could not complete the backup."),
        ("resolved", f"{site.name}: resolved: A backup failed: Wix could not complete the backup."),
    ]
    succeeded(site)
    assert len(alerts(site)) == 2  # nothing open, nothing said


def test_each_kind_of_operation_has_its_own_incident(site):
    for kind in (
        Operation.Kind.RESTORE,
        Operation.Kind.RESTORE_PARTIAL,
        Operation.Kind.DELETE_BACKUP,
        Operation.Kind.SNAPSHOT,
    ):
        failed(site, kind=kind, error="It broke.")
    failed(site, kind=Operation.Kind.VERIFY_SNAPSHOT, error="Damaged.")  # shown on the snapshot
    causes = sorted(Incident.objects.filter(site=site).values_list("cause", flat=True))
    assert causes == ["delete_failed", "restore_failed", "snapshot_failed"]


def test_an_alert_has_one_delivery_per_channel_the_owner_had_then(site, owner, outsider):
    AlertChannel.objects.create(owner=owner, kind=AlertChannel.EMAIL, target="a@example.com")
    AlertChannel.objects.create(owner=owner, kind=AlertChannel.EMAIL, target="b@example.com")
    AlertChannel.objects.create(owner=outsider, kind=AlertChannel.EMAIL, target="c@example.com")
    failed(site)
    deliveries = AlertDelivery.objects.filter(alert__site=site)
    assert sorted(d.channel.target for d in deliveries) == ["a@example.com", "b@example.com"]
    assert {d.state for d in deliveries} == {AlertDelivery.PENDING}


def test_the_stale_incident_opens_once_and_resolves_with_a_new_backup(site):
    make_backup(site, type=Backup.AUTO, age=timedelta(days=9))
    assert engine.incidents_check() == 1
    assert engine.incidents_check() == 0  # every beat looks again: nothing new to say
    (incident,) = Incident.objects.filter(site=site, cause=Incident.Cause.STALE)
    assert incident.text == "The newest READY backup is 9 days old."
    make_backup(site, type=Backup.AUTO, age=timedelta(hours=1))
    assert engine.incidents_check() == 1
    assert Incident.objects.get(pk=incident.pk).resolved_at is not None
    assert [kind for kind, _ in alerts(site)] == ["opened", "resolved"]


def test_an_open_stale_incident_says_how_old_the_copy_is_now_without_a_second_alert(site):
    """The dashboard and the site page read the incident: three days later it must not still
    say the age it opened with. Its words move on; it stays one incident with one alert."""
    backup = make_backup(site, type=Backup.AUTO, age=timedelta(days=9))
    assert engine.incidents_check() == 1
    (incident,) = Incident.objects.filter(site=site, cause=Incident.Cause.STALE)
    version = Site.objects.get(pk=site.pk).version
    Backup.objects.filter(pk=backup.pk).update(requested_at=timezone.now() - timedelta(days=12))
    assert engine.incidents_check() == 1  # a change the pages show
    assert Incident.objects.get(pk=incident.pk).text == "The newest READY backup is 12 days old."
    assert Incident.objects.filter(site=site).count() == 1
    assert [kind for kind, _ in alerts(site)] == ["opened"]
    assert Site.objects.get(pk=site.pk).version > version
    assert engine.incidents_check() == 0  # the same words again: nothing to say


def test_a_complete_snapshot_keeps_a_site_fresh_and_the_expected_age_is_the_sites(site):
    make_backup(site, type=Backup.AUTO, age=timedelta(days=9))
    Snapshot.objects.create(
        site=site,
        storage_id="s1",
        state=Snapshot.State.COMPLETE,
        started_at=timezone.now() - timedelta(days=3),
    )
    engine.incidents_check()
    assert not Incident.objects.filter(site=site).exists()
    site.stale_after_days = 2
    site.save()
    engine.incidents_check()
    (incident,) = Incident.objects.filter(site=site, cause=Incident.Cause.STALE)
    assert incident.text == "The newest complete snapshot is 3 days old."


def test_a_rejected_key_opens_its_incident_and_a_good_sync_resolves_it(site):
    site.credentials_rejected = True
    site.last_sync_error = "Wix rejected the API key."
    site.save()
    make_backup(site, type=Backup.AUTO)
    engine.incidents_check()
    engine.incidents_check()
    (incident,) = Incident.objects.filter(site=site)
    assert (incident.cause, incident.text) == ("key", "Wix rejected the API key.")
    site.credentials_rejected = False
    site.last_sync_error = ""
    site.save()
    engine.incidents_check()
    assert Incident.objects.get(pk=incident.pk).resolved_at is not None


def test_needs_attention_is_the_open_incidents_on_the_dashboard_and_the_site_page(
    owner_client, owner
):
    site = make_site(owner, name="Shop")
    make_backup(site, type=Backup.AUTO)
    failed(site, kind=Operation.Kind.RESTORE, error="Wix reported that the restore failed.")
    dashboard = owner_client.get(reverse("sites:dashboard")).text
    page = owner_client.get(reverse("sites:site", args=[site.pk])).text
    for html in (dashboard, page):
        assert "A restore failed: Wix reported that the restore failed." in html
    succeeded(site, kind=Operation.Kind.RESTORE)
    dashboard = owner_client.get(reverse("sites:dashboard")).text
    assert "A restore failed" not in dashboard and "All good" in dashboard


def test_the_expected_age_defaults_to_8_days(owner):
    site = make_site(owner, name="Default")
    make_backup(site, type=Backup.AUTO, age=timedelta(days=7, hours=23))
    engine.incidents_check()
    assert not Incident.objects.filter(site=site).exists()


def test_a_running_schedule_sets_how_old_a_copy_may_be(site):
    """Issue 18: twice the schedule's interval, 8 days (the site's setting) without one. A site
    whose weekly automatic backups alone are 3 days old is fine; the same site with a daily
    backup schedule expected one within 2 days."""
    from sites.models import Schedule

    make_backup(site, type=Backup.AUTO, age=timedelta(days=3))
    assert engine.incidents_check() == 0
    daily = Schedule.objects.create(
        site=site, kind=Schedule.Kind.BACKUP, frequency=Schedule.Frequency.DAILY
    )
    assert engine.incidents_check() == 1
    (incident,) = Incident.objects.filter(site=site, cause=Incident.Cause.STALE)
    assert incident.text == "The newest READY backup is 3 days old."
    # Paused, the schedule expects nothing: the site's own 8 days again, and it resolves.
    Schedule.objects.filter(pk=daily.pk).update(paused=True)
    assert engine.incidents_check() == 1
    assert Incident.objects.get(pk=incident.pk).resolved_at is not None
    # Hourly snapshots expect a copy within 2 hours: a fresh backup keeps the site quiet, one of
    # 3 hours does not (said in hours).
    Schedule.objects.create(
        site=site, kind=Schedule.Kind.SNAPSHOT, frequency=Schedule.Frequency.HOURLY
    )
    make_backup(site, type=Backup.AUTO, age=timedelta(minutes=30))
    assert engine.incidents_check() == 0
    Backup.objects.filter(site=site).update(requested_at=timezone.now() - timedelta(hours=3))
    assert engine.incidents_check() == 1
    assert Incident.objects.get(
        site=site, cause=Incident.Cause.STALE, resolved_at__isnull=True
    ).text == ("The newest READY backup is 3 hours old.")
