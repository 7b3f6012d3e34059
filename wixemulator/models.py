"""The emulator's own state: emulated sites, their content, backups, restorations and tokens.

Statuses are never stored. A backup or restoration stores when it was requested, when it will
finish and how it will end; its status is derived from those timestamps and the site's clock on
every request (`status_at`), so no background process is needed and any number of server
processes agree on what Wix would answer.
"""

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

AUTO_BACKUP_INTERVAL = timedelta(days=7)


class EmuApp(models.Model):
    """A Wix app (OAuth client) that can be installed on emulated sites."""

    app_id = models.UUIDField(unique=True, default=uuid.uuid4)
    app_secret = models.CharField(max_length=100)
    name = models.CharField(max_length=100)

    def __str__(self) -> str:
        return self.name


class EmuSite(models.Model):
    site_id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    name = models.CharField(max_length=200)
    app = models.ForeignKey(EmuApp, null=True, blank=True, on_delete=models.SET_NULL)
    instance_id = models.UUIDField(unique=True, default=uuid.uuid4)
    created_at = models.DateTimeField(default=timezone.now)
    # The site's clock runs this far ahead of the real one, so a test or demo can let weeks pass
    # (AUTO backups) without waiting for them.
    clock_offset_seconds = models.FloatField(default=0.0)
    # AUTO backups are due at auto_anchor + k * 7 days; auto_taken is the last k already made.
    auto_anchor = models.DateTimeField(default=timezone.now)
    auto_taken = models.IntegerField(default=0)

    # Per-site durations; None means the WIXEMULATOR_*_SECONDS setting.
    backup_seconds = models.FloatField(null=True, blank=True)
    restore_seconds = models.FloatField(null=True, blank=True)
    delete_seconds = models.FloatField(null=True, blank=True)

    # Fault injection: shares (0..1, summing to at most 1) of API requests answered 500/503,
    # answered 429, answered after a delay, whose connection is dropped after the work is done, or
    # answered 200 with a garbled body (not JSON, cut off, or huge) after the work is done.
    fault_error_rate = models.FloatField(default=0.0)
    fault_rate_limit_rate = models.FloatField(default=0.0)
    fault_delay_rate = models.FloatField(default=0.0)
    fault_delay_seconds = models.FloatField(default=0.0)
    fault_drop_rate = models.FloatField(default=0.0)
    fault_garbage_rate = models.FloatField(default=0.0)
    # Share of backups and restorations that end FAILED.
    fault_fail_rate = models.FloatField(default=0.0)
    # When set, only this many more requests are subject to the request faults above.
    fault_count = models.IntegerField(null=True, blank=True)

    class Meta:
        ordering = ["name", "site_id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.site_id})"

    def now(self) -> datetime:
        return timezone.now() + timedelta(seconds=self.clock_offset_seconds)

    def duration(self, kind: str) -> timedelta:
        own = getattr(self, f"{kind}_seconds")
        default = getattr(settings, f"WIXEMULATOR_{kind.upper()}_SECONDS")
        return timedelta(seconds=own if own is not None else default)


class EmuApiKey(models.Model):
    key = models.CharField(max_length=200, unique=True)
    site = models.ForeignKey(EmuSite, on_delete=models.CASCADE, related_name="api_keys")
    # A key made without the "Manage Data Backups" permission authenticates but is refused (403).
    can_manage_backups = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"key …{self.key[-4:]} of {self.site_id}"


class EmuToken(models.Model):
    """An OAuth access token of an app installed on a site; expiry runs on the real clock."""

    token = models.CharField(max_length=200, unique=True)
    site = models.ForeignKey(EmuSite, on_delete=models.CASCADE, related_name="tokens")
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"token …{self.token[-4:]} of {self.site_id}"


class EmuCollection(models.Model):
    site = models.ForeignKey(EmuSite, on_delete=models.CASCADE, related_name="collections")
    collection_id = models.CharField(max_length=256)
    # Wix's displayName may be null, which is not the same as "", so NULL is kept.
    display_name = models.CharField(max_length=256, null=True, blank=True)  # noqa: DJ001

    class Meta:
        ordering = ["collection_id"]
        constraints = [
            models.UniqueConstraint(fields=["site", "collection_id"], name="emu_collection_unique")
        ]

    def __str__(self) -> str:
        return self.display_name or self.collection_id


class EmuItem(models.Model):
    collection = models.ForeignKey(EmuCollection, on_delete=models.CASCADE, related_name="items")
    item_id = models.CharField(max_length=256)
    data = models.JSONField(default=dict)

    class Meta:
        ordering = ["item_id"]
        constraints = [
            models.UniqueConstraint(fields=["collection", "item_id"], name="emu_item_unique")
        ]

    def __str__(self) -> str:
        return self.item_id


class EmuBackup(models.Model):
    ON_DEMAND = "ON_DEMAND"
    AUTO = "AUTO"
    TYPES = [(ON_DEMAND, ON_DEMAND), (AUTO, AUTO)]
    READY = "READY"
    FAILED = "FAILED"
    OUTCOMES = [(READY, READY), (FAILED, FAILED)]

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    site = models.ForeignKey(EmuSite, on_delete=models.CASCADE, related_name="backups")
    type = models.CharField(max_length=10, choices=TYPES)
    requested_at = models.DateTimeField()
    started_at = models.DateTimeField()
    finish_at = models.DateTimeField()
    outcome = models.CharField(max_length=10, choices=OUTCOMES)
    # Set together when a delete is accepted (or an eviction happens): the backup stops holding a
    # slot at once and shows DELETED from deleted_at on.
    delete_requested_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    # {"collections": [{"id", "displayName", "items": [{"id", "data"}]}]}
    snapshot = models.JSONField(default=dict)
    size_in_bytes = models.BigIntegerField(default=0)
    # [{"id", "displayName"}], what Wix lists as the backup's collections.
    collections = models.JSONField(default=list)

    class Meta:
        ordering = ["-requested_at"]
        indexes = [models.Index(fields=["site", "-requested_at"], name="emu_backup_site_req")]

    def __str__(self) -> str:
        return f"{self.type} backup {self.id}"

    def status_at(self, now: datetime) -> str:
        if self.deleted_at is not None and self.deleted_at <= now:
            return "DELETED"
        if self.finish_at <= now:
            return self.outcome
        return "PENDING"


class EmuRestoration(models.Model):
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    OUTCOMES = [(COMPLETED, COMPLETED), (FAILED, FAILED)]

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    site = models.ForeignKey(EmuSite, on_delete=models.CASCADE, related_name="restorations")
    backup = models.ForeignKey(EmuBackup, on_delete=models.CASCADE, related_name="restorations")
    requested_at = models.DateTimeField()
    started_at = models.DateTimeField()
    finish_at = models.DateTimeField()
    outcome = models.CharField(max_length=10, choices=OUTCOMES)
    # [{"dataCollectionId", "restoreDestination"?: {"dataCollectionId", "displayName"}}]
    restoration_collections = models.JSONField(default=list)
    # Content is written once, by the first request that sees the restoration finished.
    applied = models.BooleanField(default=False)

    class Meta:
        ordering = ["-requested_at"]
        indexes = [models.Index(fields=["site", "-requested_at"], name="emu_rest_site_req")]

    def __str__(self) -> str:
        return f"restoration {self.id}"

    def status_at(self, now: datetime) -> str:
        return self.outcome if self.finish_at <= now else "PENDING"


class EmuRequestLog(models.Model):
    """Every API request the emulator answered: the rate limit counts these, and tests read them."""

    site = models.ForeignKey(
        EmuSite, null=True, blank=True, on_delete=models.CASCADE, related_name="requests"
    )
    at = models.DateTimeField(default=timezone.now)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    query = models.TextField(blank=True)
    status = models.PositiveSmallIntegerField()
    request_id = models.CharField(max_length=64)
    # False for answers that the rate limit itself produced, so a client that backs off recovers.
    counted = models.BooleanField(default=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["site", "at"], name="emu_req_site_at")]

    def __str__(self) -> str:
        return f"{self.method} {self.path} {self.status}"
