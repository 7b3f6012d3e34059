"""Alerts: incidents (one open per site and cause), the owner's channels, and the outbox.

An incident is opened once and resolved once (engine/incidents.py); each opening, resolution and
test message is an `Alert` written in the same transaction, with one `AlertDelivery` per channel
the owner had then. Workers send the deliveries (engine/outbox.py); a delivery is claimed with
compare-and-swap and marked delivered per channel, so a retry never sends one twice.
"""

import uuid
from urllib.parse import urlsplit

from django.conf import settings
from django.db import models
from django.utils import timezone


class Incident(models.Model):
    """Something wrong with a site that the owner hears of when it starts and when it ends."""

    class Cause(models.TextChoices):
        BACKUP_FAILED = "backup_failed", "A backup failed"
        RESTORE_FAILED = "restore_failed", "A restore failed"
        DELETE_FAILED = "delete_failed", "A deletion failed"
        SNAPSHOT_FAILED = "snapshot_failed", "A snapshot failed"
        KEY = "key", "Wix rejected the API key"
        STALE = "stale", "No recent backup"
        UNREACHABLE = "unreachable", "Wix unreachable"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    site = models.ForeignKey("sites.Site", on_delete=models.CASCADE, related_name="incidents")
    cause = models.CharField(max_length=20, choices=Cause.choices)
    # What was wrong when it opened, in words a site owner understands (never a secret).
    text = models.TextField()
    opened_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            # Opened once: a second opening of the same cause while one is open is refused by
            # the database itself, whoever races (two workers, the beat and a refresh).
            models.UniqueConstraint(
                fields=["site", "cause"],
                condition=models.Q(resolved_at__isnull=True),
                name="incident_one_open_per_cause",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_cause_display()} ({'open' if self.resolved_at is None else 'resolved'})"

    @classmethod
    def cause_bit(cls, cause: str) -> int:
        """The cause's bit in `Site.incidents_open` (its place among the causes: a new cause is
        added at the end of `Cause`, so no bit ever changes meaning)."""
        return 1 << cls.Cause.values.index(cause)


class AlertChannel(models.Model):
    """Where an owner hears of incidents: an e-mail address or a webhook URL."""

    EMAIL, WEBHOOK = "email", "webhook"
    KINDS = [(EMAIL, "E-mail"), (WEBHOOK, "Webhook")]

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_channels"
    )
    kind = models.CharField(max_length=10, choices=KINDS)
    # The e-mail address, or the webhook's URL (checked against SSRF when saved and when sent).
    target = models.CharField(max_length=500)
    # A webhook's signing secret (Fernet token, sites/crypto.py): shown once, at creation.
    secret_encrypted = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.shown_target}"

    @property
    def shown_target(self) -> str:
        """What pages show: an address as is; a webhook by its host and last 4 characters, since
        its path is often a credential itself (Slack's incoming webhook URLs are)."""
        if self.kind != self.WEBHOOK:
            return self.target
        host = urlsplit(self.target)
        return f"{host.scheme}://{host.netloc}/…{self.target[-4:]}"


class Alert(models.Model):
    """One message to an owner (the outbox): an incident opened or resolved, or a test."""

    OPENED, RESOLVED, TEST = "opened", "resolved", "test"
    KINDS = [(OPENED, "Opened"), (RESOLVED, "Resolved"), (TEST, "Test")]

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alerts"
    )
    site = models.ForeignKey(
        "sites.Site", null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts"
    )
    incident = models.ForeignKey(
        Incident, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts"
    )
    kind = models.CharField(max_length=10, choices=KINDS)
    subject = models.CharField(max_length=200)
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.subject


class AlertDelivery(models.Model):
    """An alert to one channel: pending until sent once, retried with backoff meanwhile."""

    PENDING, DELIVERED, GAVE_UP = "pending", "delivered", "gave_up"
    STATES = [(PENDING, "Waiting"), (DELIVERED, "Delivered"), (GAVE_UP, "Gave up")]

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.ForeignKey(AlertChannel, on_delete=models.CASCADE, related_name="deliveries")
    state = models.CharField(max_length=10, choices=STATES, default=PENDING)
    attempts = models.PositiveIntegerField(default=0)
    # When the beat next hands it to a worker (None once delivered or given up).
    due_at = models.DateTimeField(null=True, blank=True, default=timezone.now)
    # The worker sending it holds it until then (a crashed worker's hold simply expires).
    claimed_until = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    # The last failure, in plain words (never a secret).
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-alert__created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["alert", "channel"], name="delivery_once_per_channel")
        ]
        indexes = [
            models.Index(
                fields=["due_at"], condition=models.Q(state="pending"), name="delivery_due"
            )
        ]

    def __str__(self) -> str:
        return f"{self.alert} to {self.channel} ({self.state})"


class MailboxMessage(models.Model):
    """An e-mail the mailbox backend kept instead of sending it (`make run`'s demo mailbox)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    sent_at = models.DateTimeField(default=timezone.now)
    from_email = models.CharField(max_length=300)
    to = models.TextField()
    subject = models.CharField(max_length=300)
    body = models.TextField()

    class Meta:
        ordering = ["-sent_at", "-id"]

    def __str__(self) -> str:
        return self.subject
