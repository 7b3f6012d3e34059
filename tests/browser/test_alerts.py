"""Alerts, as an owner sets them up in a real browser: a webhook and an e-mail channel on the
Alerts page, Send a test, and the alerts read in the installation's mailbox page (`make run`'s
e-mail backend), sent by a real worker; the webhook reaches a real HTTP receiver, signed."""

import json

import pytest
from playwright.sync_api import Page, expect

from sites import connections, engine
from sites.models import AlertDelivery, Operation, Site
from tests.conftest import wait_finished
from tests.processes import WebhookReceiver, wait_for
from wixemulator import services as emu

from .test_owner_flows import sign_in


@pytest.fixture
def mailbox_workers(monkeypatch, settings, request):
    """The worker and beat with the mailbox e-mail backend, as `make run` (scripts/run-env)."""
    for name, value in {
        "EMAIL_BACKEND": "sites.mailbox.MailboxBackend",
        "WBM_WEBHOOK_ALLOW_PRIVATE": "1",
        "WBM_ALERT_SWEEP_INTERVAL": "0.5",
    }.items():
        monkeypatch.setenv(name, value)
    settings.EMAIL_BACKEND = "sites.mailbox.MailboxBackend"
    settings.WBM_WEBHOOK_ALLOW_PRIVATE = True
    return request.getfixturevalue("workers")


@pytest.fixture
def receiver():
    found = WebhookReceiver()
    yield found
    found.close()


def delivered(count: int) -> bool:
    states = list(AlertDelivery.objects.values_list("state", flat=True))
    return len(states) >= count and all(s == AlertDelivery.DELIVERED for s in states)


def test_owner_adds_channels_sends_a_test_and_reads_alerts_in_the_mailbox(
    mailbox_workers, owner, page: Page, receiver
):
    owner.is_staff = True  # the mailbox page is the installation's: staff only
    owner.save()
    sign_in(page)
    page.get_by_role("link", name="Alerts").click()
    expect(page.get_by_role("heading", name="Alerts", exact=True)).to_be_visible()
    expect(page.get_by_text("No channel yet")).to_be_visible()

    page.get_by_label("Webhook URL").fill(receiver.url)
    page.get_by_role("button", name="Add webhook").click()
    secret = page.locator("[data-secret]").inner_text()
    assert secret.startswith("whsec_")
    receiver.secret = secret
    page.get_by_label("E-mail address").fill("owner@example.com")
    page.get_by_role("button", name="Add e-mail").click()
    expect(page.get_by_text("Alerts will be e-mailed to owner@example.com.")).to_be_visible()
    assert secret not in page.content()  # shown once, never again

    # A webhook's URL is shown by its host and last characters (its path may be a credential).
    shown = f"{receiver.url.rsplit('/', 1)[0]}/…hook"
    assert receiver.url not in page.content()
    for target in (shown, "owner@example.com"):
        row = page.locator("tr[data-channel]", has_text=target)
        row.get_by_role("button", name="Send a test").click()
        expect(page.get_by_text(f"A test alert is on its way to {target}")).to_be_visible()
    wait_for(lambda: delivered(2), 60, what="both test alerts delivered by the worker")
    page.reload()
    expect(page.locator("[data-delivery]", has_text="Delivered")).to_have_count(2)
    (hook,) = receiver.delivered()
    assert hook["signed"] and json.loads(hook["body"])["kind"] == "test"

    # A backup Wix fails: the worker finishes it FAILED, the incident's alert goes out.
    creds = emu.create_site(name="Candle Shop", demo_data=True)
    emu.set_delays(creds.site_id, backup_seconds=0.5)
    site = engine_connect(owner, creds, mailbox_workers.base_url)
    emu.set_faults(creds.site_id, fail_rate=1.0)
    op = engine.operation_request(site=site, kind=Operation.Kind.CREATE_BACKUP, user=owner)
    (op,) = wait_finished([op])
    assert op.state == Operation.State.FAILED
    wait_for(lambda: len(receiver.delivered()) >= 2, 60, what="the incident's webhook")

    page.get_by_role("link", name="Alerts").click()
    expect(page.locator("[data-incident]")).to_contain_text(
        "Candle Shop: A backup failed: Wix could not complete the backup."
    )
    page.get_by_role("link", name="Open this installation's mailbox").click()
    expect(page.get_by_role("heading", name="Mailbox")).to_be_visible()
    failed_mail = page.locator("[data-mail]", has_text="Candle Shop: A backup failed")
    expect(failed_mail.locator("[data-body]")).to_contain_text(
        "Candle Shop: A backup failed: Wix could not complete the backup."
    )
    expect(failed_mail).to_contain_text("To owner@example.com")
    expect(
        page.locator("[data-mail]", has_text="Test alert from Wix Backup Manager")
    ).to_contain_text("this channel works")


def engine_connect(owner, creds, base_url: str) -> Site:
    """Connected as the product connects a site (credentials checked live), Wix's backup only."""
    site = connections.site_connect(
        owner=owner,
        name="Candle Shop",
        wix_site_id=creds.site_id,
        api_key=creds.api_key,
        api_base_url=base_url,
    )
    Site.objects.filter(pk=site.pk).update(snapshot_with_backup=False)
    site.refresh_from_db()
    return site
