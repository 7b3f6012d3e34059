"""A snapshot's row: a copy of every collection of a site kept in our own storage
(docs/snapshots.md); the storage itself is the library `sites/snapshots/`. Imported at the end
of `models.py`, so Django registers it with the app."""

import uuid
from typing import Any

from django.db import models
from django.utils import timezone

from .snapshots.manifest import MISSING


class Snapshot(models.Model):
    """A copy of every collection of a site kept in our own storage (docs/snapshots.md).

    Complete only once its manifest is in storage (`storage_id`); a running or failed one is
    never offered for download. Written by the engine only (engine/snapshot_run.py).
    """

    class State(models.TextChoices):
        RUNNING = "running", "Being taken"
        COMPLETE = "complete", "Complete"
        FAILED = "failed", "Failed"

    class TakenFor(models.TextChoices):
        OWNER = "owner", "The owner's"
        PREVIEW = "preview", "A restore preview's live reading"
        SAFETY = "safety", "A restore's safety snapshot"
        READING = "reading", "A Wix restore's reading of what it changed"

    # How many damaged or missing items a verify lists by name (the counts are always whole).
    PROBLEMS_KEPT = 20

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    site = models.ForeignKey("sites.Site", on_delete=models.CASCADE, related_name="snapshots")
    # The operation that takes it (its attempts, lease, activity).
    operation = models.OneToOneField(
        "sites.Operation", null=True, blank=True, on_delete=models.SET_NULL, related_name="snapshot"
    )
    # Taken with a "Back up now": that request, and the Wix backup it made once known, so the
    # two are shown as one row.
    backup_operation = models.ForeignKey(
        "sites.Operation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="backup_snapshots",
    )
    backup = models.ForeignKey(
        "sites.Backup", null=True, blank=True, on_delete=models.SET_NULL, related_name="snapshots"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.RUNNING)
    # The snapshot's id in storage (its manifest is snapshots/<storage_id>.manifest).
    storage_id = models.CharField(max_length=128, unique=True)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Retention never prunes a pinned snapshot.
    pinned = models.BooleanField(default=False)
    # Why it was taken. The owner's (asked, scheduled, with a Back up now) are what the site's
    # retention rules count; a restore preview's live reading and a restore's safety snapshot
    # follow a rule of their own (rules.kept_apart) and never push one of the owner's out.
    taken_for = models.CharField(max_length=8, choices=TakenFor.choices, default=TakenFor.OWNER)
    # While it runs, after every page read: "Products: 12,000 of 40,000 items".
    progress_collection = models.CharField(max_length=255, blank=True)
    progress_items = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(null=True, blank=True)
    collections_done = models.PositiveIntegerField(default=0)
    collections_total = models.PositiveIntegerField(null=True, blank=True)
    # Once complete: what it holds. `collections`: [{"id", "status", "items", "total", "notes",
    # "reason"}] as the manifest's header says (status "missing" with Wix's reason).
    item_count = models.PositiveIntegerField(null=True, blank=True)
    collection_count = models.PositiveIntegerField(null=True, blank=True)
    collections = models.JSONField(default=list, blank=True)
    # What it added to the store (dedup at work: a snapshot of unchanged data adds ~0).
    new_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    new_objects = models.PositiveIntegerField(null=True, blank=True)
    # The last verify: when it ended, whether every object read back intact, the counts, and
    # the first PROBLEMS_KEPT problems [{"collection", "item_id", "kind", "message"}].
    verify_operation = models.ForeignKey(
        "sites.Operation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="verified_snapshots",
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    verify_ok = models.BooleanField(null=True, blank=True)
    damaged_count = models.PositiveIntegerField(default=0)
    missing_count = models.PositiveIntegerField(default=0)
    verify_problems = models.JSONField(default=list, blank=True)
    # Why it failed, or the last problem while it is retried, in words a site owner understands.
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["site", "-started_at"], name="snapshot_site_started")]

    def __str__(self) -> str:
        return f"snapshot {self.storage_id} ({self.state})"

    @property
    def is_complete(self) -> bool:
        return self.state == self.State.COMPLETE

    @property
    def missing_collections(self) -> list[dict[str, Any]]:
        return [c for c in self.collections if c.get("status") == MISSING]
