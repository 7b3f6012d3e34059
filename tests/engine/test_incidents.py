"""Incidents the refresh sees, step by step against the emulator over HTTP: a rejected key opens
its incident at once and a good sync resolves it; Wix failing opens nothing until it has failed
for over an hour (the beat's check), and the next good sync resolves it."""

from datetime import timedelta

from django.utils import timezone

from sites import crypto, engine
from sites.models import Alert, Incident, Site
from wixemulator import services as emu


def open_causes(site) -> list[str]:
    return sorted(
        Incident.objects.filter(site=site, resolved_at__isnull=True).values_list("cause", flat=True)
    )


def test_a_rejected_key_opens_its_incident_at_once_and_a_good_sync_resolves_it(store):
    site, _creds = store
    good = Site.objects.get(pk=site.pk).secret_encrypted
    Site.objects.filter(pk=site.pk).update(secret_encrypted=crypto.encrypt("IST.revoked"))
    engine.site_refresh(site_id=site.pk)
    engine.site_refresh(site_id=site.pk)  # every retry sees it again: still one incident
    assert open_causes(site) == ["key"]
    (incident,) = Incident.objects.filter(site=site)
    assert "Wix rejected the API key" in incident.text
    Site.objects.filter(pk=site.pk).update(secret_encrypted=good)
    engine.site_refresh(site_id=site.pk)
    assert open_causes(site) == []
    kinds = list(
        Alert.objects.filter(site=site).order_by("created_at").values_list("kind", "subject")
    )
    assert kinds == [
        ("opened", "Shop: Wix rejected the API key"),
        ("resolved", "Shop: resolved: Wix rejected the API key"),
    ]


def test_wix_unreachable_opens_its_incident_only_after_an_hour_and_a_good_sync_resolves_it(store):
    site, creds = store
    emu.take_auto_backup(creds.site_id)
    emu.advance_clock(creds.site_id, seconds=120)
    engine.site_refresh(site_id=site.pk)  # a READY backup: the site is not stale
    emu.set_faults(creds.site_id, error_rate=1.0)
    before = timezone.now()
    engine.site_refresh(site_id=site.pk)
    site.refresh_from_db()
    assert site.sync_failing_since >= before and site.last_sync_error
    engine.incidents_check()
    assert open_causes(site) == []  # retried quietly for now
    # Still failing an hour later: the failures keep the time they began.
    Site.objects.filter(pk=site.pk).update(
        sync_failing_since=timezone.now() - timedelta(minutes=61)
    )
    engine.site_refresh(site_id=site.pk)
    site.refresh_from_db()
    assert timezone.now() - site.sync_failing_since > timedelta(hours=1)
    engine.incidents_check()
    engine.incidents_check()
    assert open_causes(site) == ["unreachable"]
    emu.set_faults(creds.site_id)
    engine.site_refresh(site_id=site.pk)
    site.refresh_from_db()
    assert site.sync_failing_since is None and open_causes(site) == []
    assert Alert.objects.filter(site=site).count() == 2
