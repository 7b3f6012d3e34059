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


class EmuClock(models.Model):
    """The emulator's global clock (one row, pk 1): how far every site's clock and, in
    development and tests (settings.WBM_CLOCK), the product's business clock run ahead of the
    real one. Advancing it adds the same to every site's own offset, so a site's clock is read
    without this row; a site made later starts with it (its defaults below)."""

    offset_seconds = models.FloatField(default=0.0)

    def __str__(self) -> str:
        return f"emulator clock +{self.offset_seconds:g} s"


def global_offset_seconds() -> float:
    """How far the global clock runs ahead of the real one (no row yet: not at all)."""
    found = EmuClock.objects.filter(pk=1).values_list("offset_seconds", flat=True).first()
    return found or 0.0


def global_now() -> datetime:
    """The global clock's time: the real time moved by its offset (one query)."""
    return timezone.now() + timedelta(seconds=global_offset_seconds())


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
    # It includes the global clock's offset (EmuClock): a new site starts there.
    clock_offset_seconds = models.FloatField(default=global_offset_seconds)
    # AUTO backups are due at auto_anchor + k * 7 days; auto_taken is the last k already made.
    # Anchored on the site's clock, so a site made after the clock moved starts a fresh week.
    auto_anchor = models.DateTimeField(default=global_now)
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
    # Likewise "Manage Data Items" / "Manage Data Collections" for the Data APIs.
    can_manage_data = models.BooleanField(default=True)

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
    NATIVE = "NATIVE"
    WIX_APP = "WIX_APP"
    TYPES = [(NATIVE, NATIVE), (WIX_APP, WIX_APP)]

    site = models.ForeignKey(EmuSite, on_delete=models.CASCADE, related_name="collections")
    collection_id = models.CharField(max_length=256)
    # Wix's displayName may be null, which is not the same as "", so NULL is kept.
    display_name = models.CharField(max_length=256, null=True, blank=True)  # noqa: DJ001
    # The schema the Data Collections API answers; Wix backups do not keep it.
    collection_type = models.CharField(max_length=20, choices=TYPES, default=NATIVE)
    owner_app_id = models.CharField(max_length=64, blank=True, default="")
    max_page_size = models.PositiveIntegerField(default=1000)
    # A Wix app's collection (Stores-like) refuses writes through the Data Items API.
    writable = models.BooleanField(default=True)
    display_field = models.CharField(max_length=256, blank=True, default="")
    # [{"key", "displayName", "type", "systemField", "required", ...}] without the system fields,
    # which are added when answering.
    fields = models.JSONField(default=list, blank=True)
    permissions = models.JSONField(default=dict, blank=True)
    revision = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)

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
    # The item's own fields; the system fields are the columns below, added when answering.
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    owner = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["item_id"]
        constraints = [
            models.UniqueConstraint(fields=["collection", "item_id"], name="emu_item_unique")
        ]
        # Wix's order without a sort: _createdDate, then _id.
        indexes = [
            models.Index(fields=["collection", "created_at", "item_id"], name="emu_item_order"),
            models.Index(fields=["collection", "updated_at"], name="emu_item_updated"),
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
    # The content a backup keeps is in EmuBackupItem rows (copied in SQL, so a backup of a large
    # site stays fast).
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


class EmuBackupItem(models.Model):
    """One item as a backup keeps it: its collection's id, its fields and its system fields."""

    backup = models.ForeignKey(EmuBackup, on_delete=models.CASCADE, related_name="items")
    collection_id = models.CharField(max_length=256)
    item_id = models.CharField(max_length=256)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    owner = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["backup", "collection_id"], name="emu_bitem_coll")]

    def __str__(self) -> str:
        return f"{self.collection_id}/{self.item_id} in {self.backup_id}"


class EmuCursor(models.Model):
    """A cursor of a query: the matching ids as of its first page, in order, so paging on skips
    and repeats nothing while the collection changes (docs/wix-data-api.md)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    site = models.ForeignKey(EmuSite, on_delete=models.CASCADE, related_name="cursors")
    collection_id = models.CharField(max_length=256)
    fields = models.JSONField(default=list)
    total = models.PositiveIntegerField()
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"cursor {self.id}"


class EmuCursorChunk(models.Model):
    """`CHUNK` consecutive ids of a cursor's result (one row per chunk, not per id)."""

    CHUNK = 1000

    cursor = models.ForeignKey(EmuCursor, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    ids = models.JSONField(default=list)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cursor", "index"], name="emu_cursor_chunk_unique")
        ]

    def __str__(self) -> str:
        return f"chunk {self.index} of {self.cursor_id}"


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
        """PENDING until Wix starts, IN_PROGRESS while it writes the content back, as Wix's."""
        if self.finish_at <= now:
            return self.outcome
        return "IN_PROGRESS" if self.started_at <= now else "PENDING"


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
