"""The outbox's sends, one delivery at a time in this process: the signature a receiver checks,
a delivery sent once however often it is handed out, and nothing secret in the logs."""

import json
import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from sites import engine
from sites.models import Alert, AlertDelivery


@pytest.fixture
def owner(db, django_user_model):
    return django_user_model.objects.create_user("owner", password="pw-owner-123456")


def test_the_receiver_verifies_the_signature_and_detects_a_forged_secret(
    mail_settings, receiver, owner, caplog
):
    hook, secret = engine.channel_add_webhook(owner=owner, url=receiver.url)
    # A second channel to the same receiver, whose secret the receiver does not know: what an
    # attacker who guessed the URL but not the secret would send looks like this.
    other, other_secret = engine.channel_add_webhook(owner=owner, url=receiver.url)
    assert secret != other_secret and secret.startswith("whsec_")
    receiver.secret = secret
    with caplog.at_level(logging.DEBUG):
        for channel in (hook, other):
            engine.alert_test(owner_id=owner.pk, channel_id=channel.pk)
            delivery = AlertDelivery.objects.get(channel=channel)
            engine.delivery_run(delivery_id=delivery.pk)
    genuine, forged = receiver.requests
    assert genuine["signed"] and not forged["signed"]
    body = json.loads(genuine["body"])
    assert body["text"] == "This is a test alert from Wix Backup Manager: this channel works."
    # A body changed on the way no longer matches its signature either.
    tampered = genuine["body"].replace(b"test alert", b"fake alert")
    assert not receiver.verify(tampered, genuine["headers"]["X-WBM-Signature"])
    # The header is exactly sha256=<hex HMAC-SHA256 of the body>, as documented.
    assert genuine["headers"]["X-WBM-Signature"] == engine.signature(secret, genuine["body"])
    assert secret not in caplog.text and other_secret not in caplog.text
    assert {d.state for d in AlertDelivery.objects.all()} == {AlertDelivery.DELIVERED}


def test_a_delivery_is_sent_once_however_often_it_is_handed_out(mail_settings, owner, smtp):
    channel = engine.channel_add_email(owner=owner, address="owner@example.com")
    engine.alert_test(owner_id=owner.pk, channel_id=channel.pk)
    delivery = AlertDelivery.objects.get()
    # Held by another worker right now (its lease runs): this one leaves it alone.
    AlertDelivery.objects.filter(pk=delivery.pk).update(
        claimed_until=timezone.now() + timedelta(seconds=30)
    )
    engine.delivery_run(delivery_id=delivery.pk)
    assert smtp.messages() == []
    # That worker died: its lease ends, the beat hands the delivery out again, it is sent...
    AlertDelivery.objects.filter(pk=delivery.pk).update(
        claimed_until=timezone.now() - timedelta(seconds=1), due_at=timezone.now()
    )
    assert engine.deliveries_due() == [str(delivery.pk)]
    engine.delivery_run(delivery_id=delivery.pk)
    # ... and a redelivered task, or the beat's next look, sends nothing more.
    engine.delivery_run(delivery_id=delivery.pk)
    assert engine.deliveries_due() == []
    (mail,) = smtp.messages()
    assert mail["Message-ID"] == f"<{delivery.pk}@wix-backup-manager>"
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (AlertDelivery.DELIVERED, 1)


def test_a_failed_send_is_retried_later_with_backoff_and_given_up_only_at_the_limit(
    mail_settings, owner, smtp, settings
):
    settings.WBM_ALERT_MAX_ATTEMPTS = 2
    channel = engine.channel_add_email(owner=owner, address="owner@example.com")
    engine.alert_test(owner_id=owner.pk, channel_id=channel.pk)
    delivery = AlertDelivery.objects.get()
    smtp.stop()
    before = timezone.now()
    engine.delivery_run(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.state == AlertDelivery.PENDING and delivery.due_at > before
    assert delivery.error.startswith("The mail server did not take the message")
    assert engine.deliveries_due() == []  # not before its backoff
    AlertDelivery.objects.filter(pk=delivery.pk).update(due_at=timezone.now())
    engine.delivery_run(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.state, delivery.due_at) == (AlertDelivery.GAVE_UP, None)


def test_an_alert_raised_in_a_transaction_that_rolls_back_leaves_nothing(owner):
    from django.db import transaction

    from sites.engine.outbox import alert_raise

    engine.channel_add_email(owner=owner, address="owner@example.com")
    with pytest.raises(RuntimeError), transaction.atomic():
        alert_raise(
            owner_id=owner.pk, site=None, incident=None, kind=Alert.TEST, subject="s", text="t"
        )
        raise RuntimeError("what raised it failed")
    assert not Alert.objects.exists() and not AlertDelivery.objects.exists()
