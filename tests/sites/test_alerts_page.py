"""The Alerts page: channels added, tested and removed, the webhook's secret shown once, each
site's expected backup age, and the demo mailbox (staff, mailbox backend only)."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sites import crypto, engine
from sites.models import Alert, AlertChannel, AlertDelivery, MailboxMessage
from tests.factories import make_site

URL = reverse("sites:alerts")


def test_the_nav_links_to_the_alerts_page_which_invites_a_first_channel(owner_client):
    html = owner_client.get(reverse("sites:dashboard")).text
    assert f'<a href="{URL}">Alerts</a>' in html
    page = owner_client.get(URL).text
    assert "No channel yet" in page and "Add e-mail" in page and "Add webhook" in page


def test_an_email_channel_is_added_and_a_bad_address_changes_nothing(owner_client, owner):
    bad = owner_client.post(URL, {"kind": "email", "address": "not an address"})
    assert bad.status_code == 400 and "Enter a valid e-mail address." in bad.text
    assert not AlertChannel.objects.exists()
    answer = owner_client.post(URL, {"kind": "email", "address": "me@example.com"}, follow=True)
    assert "Alerts will be e-mailed to me@example.com." in answer.text
    (channel,) = AlertChannel.objects.filter(owner=owner)
    assert f'data-channel="{channel.pk}"' in answer.text


def test_a_webhooks_secret_is_shown_once_and_never_again(owner_client, owner, settings):
    settings.WBM_WEBHOOK_ALLOW_PRIVATE = True
    url = "http://127.0.0.1:9/services/T0/B0/the-token-in-the-path"
    answer = owner_client.post(URL, {"kind": "webhook", "url": url})
    assert answer.status_code == 200 and answer["Cache-Control"] == "no-store"
    (channel,) = AlertChannel.objects.filter(owner=owner)
    secret = crypto.decrypt(channel.secret_encrypted)
    assert f"<code data-secret>{secret}</code>" in answer.text
    assert secret not in channel.secret_encrypted  # kept encrypted only
    for page in (URL, reverse("sites:dashboard")):
        assert secret not in owner_client.get(page).text
    engine.alert_test(owner_id=owner.pk, channel_id=channel.pk)
    html = owner_client.get(URL).text
    assert secret not in html
    # The URL's path may be a credential too (Slack's are): shown by host and last characters.
    assert "the-token-in-the-path" not in html and "http://127.0.0.1:9/…path" in html


def test_a_webhook_to_a_private_address_is_refused_with_why(owner_client, settings):
    settings.WBM_WEBHOOK_ALLOW_PRIVATE = False
    answer = owner_client.post(URL, {"kind": "webhook", "url": "http://169.254.169.254/latest/"})
    assert answer.status_code == 400 and "local or private address" in answer.text
    assert not AlertChannel.objects.exists()


def test_an_unknown_kind_is_a_clear_error(owner_client):
    answer = owner_client.post(URL, {"kind": "pigeon"})
    assert answer.status_code == 400 and "Choose e-mail or webhook." in answer.text


def test_send_a_test_writes_the_alert_for_that_channel_only_and_the_page_shows_it(
    owner_client, owner
):
    one = engine.channel_add_email(owner=owner, address="one@example.com")
    engine.channel_add_email(owner=owner, address="two@example.com")
    answer = owner_client.post(reverse("sites:channel_test", args=[one.pk]), follow=True)
    assert "A test alert is on its way to one@example.com" in answer.text
    (delivery,) = AlertDelivery.objects.all()
    assert delivery.channel == one and delivery.alert.kind == Alert.TEST
    assert f'data-delivery="{delivery.pk}"' in answer.text and "Waiting" in answer.text


def test_a_removed_channel_gets_nothing_more(owner_client, owner):
    channel = engine.channel_add_email(owner=owner, address="one@example.com")
    owner_client.post(reverse("sites:channel_delete", args=[channel.pk]))
    assert not AlertChannel.objects.exists()


def test_a_sites_expected_age_is_set_and_a_bad_one_changes_nothing(owner_client, site):
    url = reverse("sites:expected_age", args=[site.pk])
    bad = owner_client.post(url, {"days": "0"})
    assert bad.status_code == 400 and "Enter 1 or more." in bad.text
    site.refresh_from_db()
    assert site.stale_after_days == 8
    answer = owner_client.post(url, {"days": "3"}, follow=True)
    assert f"{site.name}: a backup is now expected every 3 days." in answer.text
    site.refresh_from_db()
    assert site.stale_after_days == 3


def test_the_page_costs_the_same_queries_for_1_or_15_alerts(owner_client, owner):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert owner_client.get(URL).status_code == 200
        return len(queries)

    make_site(owner)
    channel = engine.channel_add_email(owner=owner, address="one@example.com")
    engine.alert_test(owner_id=owner.pk, channel_id=channel.pk)
    few = count()
    engine.channel_add_email(owner=owner, address="two@example.com")
    make_site(owner, name="Second")
    for _ in range(14):
        engine.alert_test(owner_id=owner.pk, channel_id=channel.pk)
    assert count() == few


def test_the_mailbox_is_for_staff_and_only_while_it_is_the_backend(owner_client, owner, settings):
    url = reverse("sites:mailbox")
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    owner.is_staff = True
    owner.save()
    assert owner_client.get(url).status_code == 404
    settings.EMAIL_BACKEND = "sites.mailbox.MailboxBackend"
    channel = engine.channel_add_email(owner=owner, address="me@example.com")
    engine.alert_test(owner_id=owner.pk, channel_id=channel.pk)
    engine.delivery_run(delivery_id=AlertDelivery.objects.get().pk)
    (mail,) = MailboxMessage.objects.all()
    assert mail.to == "me@example.com"
    page = owner_client.get(url).text
    assert "Test alert from Wix Backup Manager" in page and "this channel works" in page
    assert f'href="{url}"' in owner_client.get(URL).text
    owner.is_staff = False
    owner.save()
    assert owner_client.get(url).status_code == 404
