"""The owner's alert channels: adding and removing them, and sending one alert through one.

E-mail goes through Django's e-mail backend (SMTP from the environment, or `make run`'s mailbox);
a webhook is a JSON POST with a `text` field (what Slack-compatible incoming webhooks read),
signed `X-WBM-Signature: sha256=<hex HMAC-SHA256 of the body>` with the channel's secret. The
secret is shown once, when the channel is made, and never logged.
"""

import hashlib
import hmac
import json
import secrets
import smtplib
from typing import Any

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, get_connection
from django.core.validators import validate_email
from django.views.decorators.debug import sensitive_variables

from .. import crypto
from ..models import AlertChannel, AlertDelivery
from ..wix_clients import outbound_url_refusal

# Channels per owner: enough for a team, few enough that one alert stays a handful of sends.
MAX_CHANNELS = 10


class ChannelRefused(Exception):
    """A channel that cannot be added, with why in plain words."""


class DeliveryFailed(Exception):
    """One send that did not go through (retried later); the message is plain words."""


def _room_for_one(owner: Any) -> None:
    if AlertChannel.objects.filter(owner_id=owner.pk).count() >= MAX_CHANNELS:
        raise ChannelRefused(f"You already have {MAX_CHANNELS} channels; remove one first.")


def channel_add_email(*, owner: Any, address: str) -> AlertChannel:
    address = address.strip()
    try:
        validate_email(address)
    except ValidationError:
        raise ChannelRefused("Enter a valid e-mail address.") from None
    _room_for_one(owner)
    return AlertChannel.objects.create(owner=owner, kind=AlertChannel.EMAIL, target=address)


@sensitive_variables("secret")
def channel_add_webhook(*, owner: Any, url: str) -> tuple[AlertChannel, str]:
    """The new channel and its signing secret (to show once: only its encryption is kept)."""
    url = url.strip()
    if len(url) > 500:
        raise ChannelRefused("This URL is too long (500 characters at most).")
    refusal = outbound_url_refusal(url)
    if refusal:
        raise ChannelRefused(refusal)
    _room_for_one(owner)
    secret = "whsec_" + secrets.token_urlsafe(32)
    channel = AlertChannel.objects.create(
        owner=owner,
        kind=AlertChannel.WEBHOOK,
        target=url,
        secret_encrypted=crypto.encrypt(secret),
    )
    return channel, secret


def channel_remove(channel: AlertChannel) -> None:
    """Remove a channel; its undelivered alerts go with it (nobody is left to receive them)."""
    channel.delete()


def webhook_body(delivery: AlertDelivery) -> bytes:
    """What a webhook receives: `text` for Slack-compatible receivers, the details beside it."""
    alert = delivery.alert
    payload = {
        "text": alert.text,
        "subject": alert.subject,
        "kind": alert.kind,
        "alert_id": str(alert.pk),
        "delivery_id": str(delivery.pk),
        "site": None if alert.site is None else {"id": str(alert.site.pk), "name": alert.site.name},
        "created_at": alert.created_at.isoformat(),
    }
    return json.dumps(payload, separators=(",", ":")).encode()


@sensitive_variables("secret")
def signature(secret: str, body: bytes) -> str:
    """The `X-WBM-Signature` header's value for this body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def send(delivery: AlertDelivery) -> None:
    """Send one delivery through its channel, or raise DeliveryFailed with why."""
    if delivery.channel.kind == AlertChannel.EMAIL:
        _send_email(delivery)
    else:
        _send_webhook(delivery)


def _send_email(delivery: AlertDelivery) -> None:
    alert = delivery.alert
    message = EmailMessage(
        subject=alert.subject,
        body=alert.text + "\n\n-- Wix Backup Manager",
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[delivery.channel.target],
        headers={"Message-ID": f"<{delivery.pk}@wix-backup-manager>"},
    )
    try:
        get_connection(fail_silently=False).send_messages([message])
    except (smtplib.SMTPException, OSError) as error:
        # The class only: an SMTP server's answer may quote our login.
        raise DeliveryFailed(
            f"The mail server did not take the message ({type(error).__name__})."
        ) from None


@sensitive_variables("secret")
def _send_webhook(delivery: AlertDelivery) -> None:
    url = delivery.channel.target
    # Checked again at every send: a host that now resolves to a private address is refused.
    refusal = outbound_url_refusal(url)
    if refusal:
        raise DeliveryFailed(refusal)
    try:
        secret = crypto.decrypt(delivery.channel.secret_encrypted)
    except crypto.SecretUnreadable:
        raise DeliveryFailed("The webhook's secret can no longer be decrypted.") from None
    body = webhook_body(delivery)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "wix-backup-manager",
        "X-WBM-Signature": signature(secret, body),
        "X-WBM-Delivery": str(delivery.pk),
    }
    try:
        answer = requests.post(
            url,
            data=body,
            headers=headers,
            timeout=settings.WBM_WEBHOOK_TIMEOUT,
            allow_redirects=False,  # a redirect could lead anywhere, past the address check
        )
    except requests.RequestException as error:
        raise DeliveryFailed(
            f"The webhook could not be reached ({type(error).__name__})."
        ) from None
    if not 200 <= answer.status_code < 300:
        raise DeliveryFailed(f"The webhook answered {answer.status_code}.")
