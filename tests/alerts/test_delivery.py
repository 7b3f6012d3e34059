"""Alerts end to end: a real worker and beat on Redis, the emulator over HTTP, a real SMTP server
process and a real HTTP receiver. Waits are on conditions, never on the clock."""

import json

from sites import connections, engine
from sites.models import AlertDelivery, Incident, Operation, Site
from tests.conftest import wait_finished
from tests.processes import wait_for
from wixemulator import services as emu


def connect_with_a_ready_backup(owner, base_url: str, name: str = "Shop") -> tuple[Site, object]:
    """An emulated store that already has Wix's automatic backup (READY), connected live."""
    creds = emu.create_site(name=name, demo_data=True)
    emu.set_delays(creds.site_id, backup_seconds=1, restore_seconds=1, delete_seconds=0.5)
    emu.take_auto_backup(creds.site_id)
    emu.advance_clock(creds.site_id, seconds=120)  # ... and it is READY
    site = connections.site_connect(
        owner=owner,
        name=name,
        wix_site_id=creds.site_id,
        api_key=creds.api_key,
        api_base_url=base_url,
    )
    # Wix's backup only: a snapshot beside each "Back up now" is not what these tests are about.
    Site.objects.filter(pk=site.pk).update(snapshot_with_backup=False)
    site.refresh_from_db()
    return site, creds


def channels(owner, receiver) -> None:
    engine.channel_add_email(owner=owner, address="owner@example.com")
    _, secret = engine.channel_add_webhook(owner=owner, url=receiver.url)
    receiver.secret = secret


def all_delivered() -> bool:
    rows = list(AlertDelivery.objects.values_list("state", flat=True))
    return bool(rows) and all(state == AlertDelivery.DELIVERED for state in rows)


def back_up(site, owner) -> Operation:
    op = engine.operation_request(site=site, kind=Operation.Kind.CREATE_BACKUP, user=owner)
    (op,) = wait_finished([op])
    return op


def test_a_failed_backup_sends_one_email_and_one_webhook_and_the_recovery_one_resolved(
    alert_workers, owner, smtp, receiver
):
    site, creds = connect_with_a_ready_backup(owner, alert_workers.base_url)
    channels(owner, receiver)
    emu.set_faults(creds.site_id, fail_rate=1.0)  # every backup Wix makes ends FAILED
    first, second = back_up(site, owner), back_up(site, owner)
    assert first.state == second.state == Operation.State.FAILED
    wait_for(lambda: len(smtp.messages()) >= 1 and receiver.delivered(), 60, what="the alerts")
    wait_for(all_delivered, 60, what="every delivery marked delivered")
    # Two failures while the incident is open: one incident, one e-mail, one webhook.
    (mail,) = smtp.messages()
    (hook,) = receiver.delivered()
    assert mail["To"] == "owner@example.com"
    assert mail["Subject"] == "Shop: A backup failed"
    assert "Wix could not complete the backup." in mail.get_payload()
    assert hook["signed"]
    body = json.loads(hook["body"])
    assert body["text"] == "Shop: A backup failed: Wix could not complete the backup."
    assert body["kind"] == "opened" and body["site"]["name"] == "Shop"

    emu.set_faults(creds.site_id)
    assert back_up(site, owner).state == Operation.State.SUCCEEDED
    wait_for(lambda: len(smtp.messages()) >= 2, 60, what="the resolved e-mail")
    wait_for(all_delivered, 60, what="every delivery marked delivered")
    assert [m["Subject"] for m in smtp.messages()] == [
        "Shop: A backup failed",
        "Shop: resolved: A backup failed",
    ]
    hooks = receiver.delivered()
    assert [json.loads(h["body"])["kind"] for h in hooks] == ["opened", "resolved"]
    assert all(h["signed"] for h in hooks)
    assert not Incident.objects.filter(site=site, resolved_at__isnull=True).exists()


def test_a_mail_server_outage_delays_the_alert_and_it_is_delivered_once_back(
    alert_workers, owner, smtp, receiver
):
    email = engine.channel_add_email(owner=owner, address="owner@example.com")
    smtp.stop()
    receiver.status = 503  # the webhook is down too
    _, receiver.secret = engine.channel_add_webhook(owner=owner, url=receiver.url)
    hook = owner.alert_channels.get(kind="webhook")
    engine.alert_test(owner_id=owner.pk, channel_id=email.pk)
    engine.alert_test(owner_id=owner.pk, channel_id=hook.pk)

    def retried() -> bool:
        rows = list(AlertDelivery.objects.all())
        return len(rows) == 2 and all(d.attempts >= 2 and d.error for d in rows)

    wait_for(retried, 60, what="both deliveries to fail and be retried")
    assert {d.state for d in AlertDelivery.objects.all()} == {AlertDelivery.PENDING}
    smtp.start()
    receiver.status = 200
    wait_for(all_delivered, 120, what="both deliveries once the servers are back")
    (mail,) = smtp.messages()
    assert mail["Subject"] == "Test alert from Wix Backup Manager"
    (accepted,) = receiver.delivered()
    assert accepted["signed"] and len(receiver.requests) >= 3  # two refused before
    # Each retry was the same delivery: the receiver can tell them apart from new alerts.
    assert len({r["headers"]["X-WBM-Delivery"] for r in receiver.requests}) == 1


def test_a_site_with_no_backup_raises_the_stale_incident_once_and_wix_backup_resolves_it(
    alert_workers, owner, smtp
):
    engine.channel_add_email(owner=owner, address="owner@example.com")
    creds = emu.create_site(name="Quiet", demo_data=True)
    site = connections.site_connect(
        owner=owner,
        name="Quiet",
        wix_site_id=creds.site_id,
        api_key=creds.api_key,
        api_base_url=alert_workers.base_url,
    )
    # The worker's first sync finds no backup at all; the beat's check (every second here) says
    # so once, however many times it looks.
    wait_for(lambda: len(smtp.messages()) >= 1, 60, what="the stale alert")
    beat = alert_workers.beat
    sent = beat.log().count("check-incidents")
    wait_for(lambda: beat.log().count("check-incidents") >= sent + 3, 60, what="3 more checks")
    assert engine.incidents_check() == 0  # and looking again here changes nothing either
    wait_for(all_delivered, 60, what="every delivery marked delivered")
    (mail,) = smtp.messages()
    assert mail["Subject"] == "Quiet: No recent backup"
    assert "There is no READY backup of this site." in mail.get_payload()
    assert Incident.objects.filter(site=site, cause=Incident.Cause.STALE).count() == 1

    # A week passes on Wix's clock: its weekly automatic backup arrives, the next sync sees it.
    emu.advance_clock(creds.site_id, seconds=7 * 24 * 3600 + 60)
    engine.site_refresh(site_id=site.pk)
    wait_for(lambda: len(smtp.messages()) >= 2, 60, what="the resolved alert")
    assert smtp.messages()[1]["Subject"] == "Quiet: resolved: No recent backup"
