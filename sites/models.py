"""Connected sites, the mirror of their backups and restorations, operations and the audit trail.

Models hold data and pure behaviour only; every change goes through the engine (sites/engine/) or
sites/connections.py, and every policy decision is in sites/rules.py.
"""

import uuid
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from .snapshots.retention import DEFAULT_RULES


class Site(models.Model):
    API_KEY = "api_key"
    APP = "app"
    AUTH_KINDS = [(API_KEY, "API key"), (APP, "Wix app installation")]

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="wix_sites"
    )
    name = models.CharField(max_length=100)
    wix_site_id = models.CharField(max_length=64)
    auth_kind = models.CharField(max_length=10, choices=AUTH_KINDS, default=API_KEY)
    # Fernet token of the API key (or empty for app installations); never rendered back.
    secret_encrypted = models.TextField(blank=True)
    # The last 4 characters of the key, so the owner can tell keys apart.
    secret_hint = models.CharField(max_length=4, blank=True)
    instance_id = models.CharField(max_length=64, blank=True)
    api_base_url = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    last_sync_error = models.TextField(blank=True)
    # True when Wix refused our credentials (401/403): the owner must replace the key.
    credentials_rejected = models.BooleanField(default=False)
    next_sync_at = models.DateTimeField(default=timezone.now, db_index=True)
    # One refresh of a site at a time: whoever refreshes holds the site until then (a crashed
    # worker's hold simply expires).
    refresh_claimed_until = models.DateTimeField(null=True, blank=True)
    # Moves (engine.site_touch) whenever anything the owner's pages show of this site changes:
    # its mirror, operations, activity or sync problem; not when a sync only confirms what we
    # had. An open page's poll compares it first and answers 204 with one query, and rendered
    # fragments are cached under it. A counter, not a time: it never collides or goes backwards
    # whatever the workers' clocks.
    version = models.PositiveBigIntegerField(default=1)
    # Every "Back up now" also takes a snapshot of the same moment (docs/snapshots.md).
    snapshot_with_backup = models.BooleanField(default=True)
    # Which snapshots the site keeps (sites/snapshots/retention.py; defaults there only).
    snapshot_keep_last = models.PositiveSmallIntegerField(default=DEFAULT_RULES.keep_last)
    snapshot_keep_daily = models.PositiveSmallIntegerField(default=DEFAULT_RULES.daily)
    snapshot_keep_weekly = models.PositiveSmallIntegerField(default=DEFAULT_RULES.weekly)
    snapshot_keep_monthly = models.PositiveSmallIntegerField(default=DEFAULT_RULES.monthly)
    # Whoever writes to the site's snapshot storage (taking one, pruning) holds the site until
    # then, so a prune never collects garbage while a snapshot of the site is being written; a
    # crashed worker's hold simply expires.
    snapshot_claimed_until = models.DateTimeField(null=True, blank=True)
    # Alerts (sites/alerts_models.py): how old the newest READY backup or complete snapshot may
    # be before the site is stale (rules.expected_backup_age), and since when Wix's answers
    # for it have failed (cleared by the next good sync; over an hour opens an incident).
    stale_after_days = models.PositiveSmallIntegerField(default=8)
    sync_failing_since = models.DateTimeField(null=True, blank=True)
    # The causes of its open incidents, a bit each (`Incident.cause_bit`), written with each
    # opening and resolution (engine/incidents.py): an operation's end reads it with the site
    # and looks for an incident to resolve only when one of its cause may be open.
    incidents_open = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["name", "created_at"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "wix_site_id"], name="site_unique_per_owner")
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        # `version` only moves forward, in the database (engine.site_touch): saving an instance
        # read before a touch must not set it back, or pages would take what they kept for the
        # older version as current.
        if not self._state.adding and kwargs.get("update_fields") is None:
            fields = self._meta.concrete_fields
            kwargs["update_fields"] = [
                f.name for f in fields if not f.primary_key and f.name != "version"
            ]
        super().save(*args, **kwargs)


class BackupQuerySet(models.QuerySet["Backup"]):
    def holding_slot(self) -> "BackupQuerySet":
        """On-demand backups that use one of the site's 3 slots (PENDING or READY)."""
        return self.filter(Backup.HOLDING_SLOT)


class Backup(models.Model):
    """A backup as Wix last listed it. Written only from Wix's answers."""

    PENDING, READY, FAILED, DELETED, CANCELED = "PENDING", "READY", "FAILED", "DELETED", "CANCELED"
    STATUSES = [(s, s.title()) for s in (PENDING, READY, FAILED, DELETED, CANCELED)]
    FINAL = (READY, FAILED, DELETED, CANCELED)
    ON_DEMAND, AUTO = "ON_DEMAND", "AUTO"
    TYPES = [(ON_DEMAND, "On demand"), (AUTO, "Automatic")]
    # On-demand backups that use one of the site's 3 slots.
    HOLDING_SLOT = models.Q(type=ON_DEMAND, status__in=[PENDING, READY])

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="backups")
    wix_id = models.CharField(max_length=64)
    # Unknown statuses from Wix are kept as sent (max 32 chars) rather than dropped.
    status = models.CharField(max_length=32)
    type = models.CharField(max_length=32)
    requested_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    size_in_bytes = models.BigIntegerField(null=True, blank=True)
    # [{"id", "displayName"}]
    collections = models.JSONField(default=list)
    # When Wix's answer last changed (or first wrote) this row.
    seen_at = models.DateTimeField(default=timezone.now)

    objects = BackupQuerySet.as_manager()

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["site", "wix_id"], name="backup_unique_per_site")
        ]
        indexes = [
            models.Index(fields=["site", "-requested_at"], name="backup_site_requested"),
            # The sweeper looks for PENDING backups every few seconds: keep that lookup tiny.
            models.Index(
                fields=["site"], condition=models.Q(status="PENDING"), name="backup_pending"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} backup {self.wix_id}"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINAL


class Restoration(models.Model):
    """A restoration as Wix last listed it. Written only from Wix's answers."""

    PENDING, IN_PROGRESS, COMPLETED, FAILED = "PENDING", "IN_PROGRESS", "COMPLETED", "FAILED"
    FINAL = (COMPLETED, FAILED)
    # Not final: asked for (PENDING), then writing the content back (IN_PROGRESS). Everything
    # that asks "is a restore running in Wix" asks for these.
    RUNNING = (PENDING, IN_PROGRESS)

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="restorations")
    wix_id = models.CharField(max_length=64)
    status = models.CharField(max_length=32)
    backup_wix_id = models.CharField(max_length=64)
    requested_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # [{"dataCollectionId", "restoreDestination"?: {...}}]
    restoration_collections = models.JSONField(default=list)
    # When Wix's answer last changed (or first wrote) this row.
    seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["site", "wix_id"], name="restoration_unique_per_site")
        ]
        indexes = [
            models.Index(
                fields=["site"], condition=models.Q(status="PENDING"), name="restoration_pending"
            )
        ]

    def __str__(self) -> str:
        return f"restoration {self.wix_id}"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINAL


class Operation(models.Model):
    """What a person asked for, kept from the click until Wix's final answer."""

    class Kind(models.TextChoices):
        CREATE_BACKUP = "create_backup", "Back up"
        RESTORE = "restore", "Restore all collections"
        RESTORE_PARTIAL = "restore_partial", "Restore chosen collections"
        DELETE_BACKUP = "delete_backup", "Delete backup"
        SNAPSHOT = "snapshot", "Take a snapshot"
        VERIFY_SNAPSHOT = "verify_snapshot", "Verify a snapshot"
        PREVIEW_RESTORE = "preview_restore", "Preview a restore"
        RESTORE_SNAPSHOT = "restore_snapshot", "Restore from a snapshot"

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        SUBMITTED = "submitted", "Sent to Wix"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    RUNNING = (State.QUEUED, State.SUBMITTED)
    RESTORES = (Kind.RESTORE, Kind.RESTORE_PARTIAL)
    # Never sent to Wix's Backups API: they run on the snapshot queue from QUEUED to the end
    # (engine/snapshot_run.py), so submit and refresh leave them alone.
    SNAPSHOT_KINDS = (
        Kind.SNAPSHOT,
        Kind.VERIFY_SNAPSHOT,
        Kind.PREVIEW_RESTORE,
        Kind.RESTORE_SNAPSHOT,
    )

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="operations")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The backup this operation targets (restore, delete) or produced (create).
    backup_wix_id = models.CharField(max_length=64, blank=True)
    restoration_wix_id = models.CharField(max_length=64, blank=True)
    # For a partial restore: [{"dataCollectionId", "restoreDestination"?}]
    collections = models.JSONField(default=list, blank=True)
    # The last problem, in words a site owner understands (also set while retrying).
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # When a create was sent to Wix (written just before the call). Set, and no backup id: Wix's
    # answer was lost, so the create is never sent again; the first backup Wix lists as
    # requested since is adopted instead (engine/landing.py).
    sent_at = models.DateTimeField(null=True, blank=True)
    # When a submit attempt last began: after an ambiguous failure, a backup or restoration Wix
    # made since then is adopted instead of making another.
    attempt_started_at = models.DateTimeField(null=True, blank=True)
    # When the sweeper next hands this operation to a worker: to submit it while QUEUED, to poll
    # Wix for it while SUBMITTED; None once finished. Only a time, never a lease (claimed_until).
    due_at = models.DateTimeField(null=True, blank=True, default=timezone.now)
    # A worker talking to Wix about this operation holds it until then (a crashed worker's hold
    # simply expires).
    claimed_until = models.DateTimeField(null=True, blank=True)
    # Who asked when no person did: "schedule" (sites/schedules_models.py), else "".
    via = models.CharField(max_length=10, blank=True)
    # A create that waits for the delete freeing its slot (engine/rotation.py): never submitted
    # while that delete runs, failed if it fails.
    after = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="waiting"
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["state", "due_at"], name="operation_due"),
            models.Index(fields=["site", "state"], name="operation_site_state"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.state})"

    @property
    def is_finished(self) -> bool:
        return self.state in (self.State.SUCCEEDED, self.State.FAILED)

    @property
    def is_restore(self) -> bool:
        return self.kind in self.RESTORES

    @property
    def is_snapshot_work(self) -> bool:
        return self.kind in self.SNAPSHOT_KINDS

    def age(self, now: datetime) -> float:
        return (now - self.created_at).total_seconds()


class Activity(models.Model):
    """The audit trail a site owner reads: who did what to which site and backup, with outcome.

    One entry per action: a request's entry is written REQUESTED and its outcome is written into
    the same entry when the operation ends (engine/states.py `finish`).
    """

    REQUESTED, SUCCEEDED, FAILED, INFO = "requested", "succeeded", "failed", "info"
    OUTCOMES = [(REQUESTED, "Requested"), (SUCCEEDED, "Succeeded"), (FAILED, "Failed"), (INFO, "")]
    # What an entry is about, for the log's filter.
    BACKUP, RESTORE, DELETE, SNAPSHOT, WIX, SITE = (
        "backup", "restore", "delete", "snapshot", "wix", "site",
    )  # fmt: skip
    KINDS = [
        (BACKUP, "Backups"), (RESTORE, "Restores"), (DELETE, "Deletions"),
        (SNAPSHOT, "Snapshots"), (WIX, "What Wix did by itself"),
        (SITE, "The site's connection and settings"),
    ]  # fmt: skip
    _KIND_OF_OPERATION = {
        "create_backup": BACKUP, "restore": RESTORE, "restore_partial": RESTORE,
        "delete_backup": DELETE, "snapshot": SNAPSHOT, "verify_snapshot": SNAPSHOT,
        "preview_restore": RESTORE,
        "restore_snapshot": RESTORE,
    }  # fmt: skip

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="activities")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    operation = models.ForeignKey(
        Operation, null=True, blank=True, on_delete=models.SET_NULL, related_name="activities"
    )
    created_at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=10, choices=OUTCOMES)
    message = models.TextField()
    # When the backup the entry is about was made ("… from the backup of <backup_at>"): kept as a
    # time, not as text, so each reader sees it in their own zone.
    backup_at = models.DateTimeField(null=True, blank=True)
    # Why it failed, in plain words (follows the message after a colon).
    detail = models.TextField(blank=True)
    kind = models.CharField(max_length=10, choices=KINDS, default=SITE)
    # Who asked when no person did (`actor` None): SCHEDULE, or "" (Wix, by itself).
    SCHEDULE = "schedule"
    via = models.CharField(max_length=10, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["site", "-created_at"], name="activity_site_created"),
            models.Index(fields=["site", "kind", "-created_at"], name="activity_site_kind"),
        ]
        verbose_name_plural = "activities"

    def __str__(self) -> str:
        when = f" of {self.backup_at:%Y-%m-%d %H:%M} UTC" if self.backup_at else ""
        return self.message + when + (f": {self.detail}" if self.detail else "")

    def save(self, *args: Any, **kwargs: Any) -> None:
        # An entry about an operation is of that operation's kind, whoever writes it.
        if self.operation_id is not None and self._state.adding:
            self.kind = self.kind_of(self.operation.kind)
        super().save(*args, **kwargs)

    @classmethod
    def kind_of(cls, operation_kind: str) -> str:
        """The log's kind of an entry about an operation of this kind."""
        return cls._KIND_OF_OPERATION.get(operation_kind, cls.SITE)


class Profile(models.Model):
    """What a person prefers to see; created on first save of their preferences."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="wbm_profile"
    )
    # An IANA zone name ("Europe/Paris"); blank means the installation's TIME_ZONE.
    time_zone = models.CharField(max_length=64, blank=True)

    def __str__(self) -> str:
        return f"profile of {self.user}"


from .alerts_models import Alert, AlertChannel, AlertDelivery, Incident, MailboxMessage  # noqa: E402, F401
from .preview_models import Preview, PreviewChange, PreviewCollection  # noqa: E402, F401
from .restore_models import RestoreRun  # noqa: E402, F401  (registers the model)
from .schedules_models import BackupPin, Schedule  # noqa: E402, F401 - registered with the app
from .snapshot_models import Snapshot  # noqa: E402, F401 - registered with the app
