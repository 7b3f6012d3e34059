"""The outbox: alerts written where they are raised, sent by workers, once per channel.

`alert_raise` runs inside the caller's transaction: the `Alert` and one `AlertDelivery` per
channel the owner has are committed with what raised them, and only then handed to workers. A
delivery is claimed with compare-and-swap (`claimed_until`), sent, and marked delivered with the
same lease, so a redelivered task or two workers never send it twice to a channel; a failure
(mail server or webhook down) is retried with backoff, and the beat's `deliveries_due` hands
out whatever is due, including the ones whose message to the broker was lost.

The one window left is a worker dying between the send and the mark: the receiver then gets the
alert again after the lease; each carries its delivery id (`X-WBM-Delivery`, the e-mail's
Message-ID) so a receiver can tell.
"""

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from ..models import Alert, AlertChannel, AlertDelivery, Incident, Site
from .backoff import backoff
from .channels import DeliveryFailed, send
from .dispatch import enqueue_alert_delivery

logger = logging.getLogger(__name__)

# Upper bound of deliveries one beat hands out, so one run stays short whatever the backlog.
DELIVERY_BATCH = 500


def alert_raise(
    *,
    owner_id: Any,
    site: Site | None,
    incident: Incident | None,
    kind: str,
    subject: str,
    text: str,
    channel_ids: list[Any] | None = None,
) -> Alert:
    """Write an alert and its deliveries (to `channel_ids`, default every channel of the owner)
    in the current transaction; workers are asked to send them once it commits."""
    alert = Alert.objects.create(
        owner_id=owner_id, site=site, incident=incident, kind=kind, subject=subject, text=text
    )
    channels = AlertChannel.objects.filter(owner_id=owner_id)
    if channel_ids is not None:
        channels = channels.filter(pk__in=channel_ids)
    deliveries = AlertDelivery.objects.bulk_create(
        AlertDelivery(alert=alert, channel_id=pk) for pk in channels.values_list("pk", flat=True)
    )
    ids = [d.pk for d in deliveries]
    transaction.on_commit(lambda: [enqueue_alert_delivery(pk) for pk in ids])
    return alert


def alert_test(*, owner_id: Any, channel_id: Any) -> Alert:
    """A test message to one of the owner's channels (the Alerts page's "Send a test")."""
    with transaction.atomic():
        return alert_raise(
            owner_id=owner_id,
            site=None,
            incident=None,
            kind=Alert.TEST,
            subject="Test alert from Wix Backup Manager",
            text="This is a test alert from Wix Backup Manager: this channel works.",
            channel_ids=[channel_id],
        )


def delivery_run(*, delivery_id: Any) -> None:
    """Send one delivery if nobody else holds it and it was not sent yet."""
    now = timezone.now()
    lease = now + timedelta(seconds=settings.WBM_ALERT_CLAIM_SECONDS)
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    if not AlertDelivery.objects.filter(free, pk=delivery_id, state=AlertDelivery.PENDING).update(
        claimed_until=lease, attempts=F("attempts") + 1
    ):
        return  # delivered, given up, or another worker sends it right now
    delivery = AlertDelivery.objects.select_related("alert", "alert__site", "channel").get(
        pk=delivery_id
    )
    mine = AlertDelivery.objects.filter(pk=delivery.pk, claimed_until=lease)
    try:
        send(delivery)
    except DeliveryFailed as error:
        done = timezone.now()
        give_up = delivery.attempts >= settings.WBM_ALERT_MAX_ATTEMPTS
        logger.info(
            "alert delivery %s failed (attempt %s): %s", delivery.pk, delivery.attempts, error
        )
        mine.update(
            state=AlertDelivery.GAVE_UP if give_up else AlertDelivery.PENDING,
            claimed_until=None,
            due_at=None if give_up else done + backoff(delivery.attempts),
            error=str(error),
        )
        return
    mine.update(
        state=AlertDelivery.DELIVERED,
        delivered_at=timezone.now(),
        claimed_until=None,
        due_at=None,
        error="",
    )
    logger.info("alert delivery %s sent", delivery.pk)


def deliveries_due() -> list[str]:
    """The beat's share: the pending deliveries that are due and held by nobody, pushed back by
    a lease so the next beat does not hand them out again (the worker's claim decides)."""
    now = timezone.now()
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    with transaction.atomic():
        due = list(
            AlertDelivery.objects.select_for_update(skip_locked=True)
            .filter(free, state=AlertDelivery.PENDING, due_at__lte=now)
            .order_by("due_at")
            .values_list("pk", flat=True)[:DELIVERY_BATCH]
        )
        AlertDelivery.objects.filter(pk__in=due).update(
            due_at=now + timedelta(seconds=settings.WBM_ALERT_CLAIM_SECONDS)
        )
    return [str(pk) for pk in due]
