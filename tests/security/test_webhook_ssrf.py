"""Webhook URLs go through the one outbound rule (`wix_clients.outbound_url_refusal`): no
loopback, private, link-local or reserved address, no other scheme, no redirect followed, checked
when the channel is added and again at every send."""

import pytest

from sites import engine
from sites.models import AlertChannel, AlertDelivery
from tests.factories import PASSWORD


@pytest.fixture
def owner(db, django_user_model):
    return django_user_model.objects.create_user("owner", password=PASSWORD)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://127.0.0.1:{port}/hook", "local or private"),
        ("http://localhost:{port}/hook", "local or private"),
        ("http://[::1]:{port}/hook", "local or private"),
        ("http://10.1.2.3/hook", "local or private"),
        ("http://192.168.0.10/hook", "local or private"),
        ("http://169.254.169.254/latest/meta-data/", "local or private"),  # cloud metadata
        ("http://0.0.0.0:{port}/", "local or private"),
        ("file:///etc/passwd", "Only http:// and https://"),
        ("gopher://127.0.0.1:{port}/", "Only http:// and https://"),
        ("http://user:pw@example.com/hook", "user name or password"),
        ("http://[not-an-address/", "not a valid URL"),
    ],
)
def test_a_webhook_to_a_private_address_or_another_scheme_is_refused(
    owner, fake_host, settings, url, why
):
    settings.WBM_WEBHOOK_ALLOW_PRIVATE = False
    port = fake_host.url.rsplit(":", 1)[1]
    with pytest.raises(engine.ChannelRefused, match=why):
        engine.channel_add_webhook(owner=owner, url=url.format(port=port))
    assert not AlertChannel.objects.exists()
    assert fake_host.requests == []


def test_a_public_address_is_accepted(owner, settings):
    settings.WBM_WEBHOOK_ALLOW_PRIVATE = False
    channel, _ = engine.channel_add_webhook(owner=owner, url="https://93.184.215.14/hook")
    assert channel.target == "https://93.184.215.14/hook"


def test_a_channel_saved_while_allowed_is_refused_at_send_time_once_it_is_not(
    owner, fake_host, settings
):
    settings.WBM_WEBHOOK_ALLOW_PRIVATE = True
    channel, _ = engine.channel_add_webhook(owner=owner, url=fake_host.url + "/hook")
    settings.WBM_WEBHOOK_ALLOW_PRIVATE = False
    engine.alert_test(owner_id=owner.pk, channel_id=channel.pk)
    delivery = AlertDelivery.objects.get()
    engine.delivery_run(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.state == AlertDelivery.PENDING and "local or private" in delivery.error
    assert fake_host.requests == []


def test_a_redirect_is_not_followed(owner, fake_host, other_host, settings):
    settings.WBM_WEBHOOK_ALLOW_PRIVATE = True
    fake_host.answer(302, b"", Location=other_host.url + "/steal")
    channel, _ = engine.channel_add_webhook(owner=owner, url=fake_host.url + "/hook")
    engine.alert_test(owner_id=owner.pk, channel_id=channel.pk)
    delivery = AlertDelivery.objects.get()
    engine.delivery_run(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.error == "The webhook answered 302."
    assert len(fake_host.requests) == 1 and other_host.requests == []
