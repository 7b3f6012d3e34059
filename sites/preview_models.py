"""Restore previews: what a restore from a snapshot would change in the live data, per collection
and item (docs/snapshots.md, "Restore previews"). Written by the engine only
(engine/preview.py); imported at the end of sites/models.py so Django registers them.
"""

import uuid

from django.db import models
from django.utils import timezone

# The models named by their labels, not imported: sites/models.py imports this module at its end
# (so Django registers it), and the import linter allows no cycle.


class Preview(models.Model):
    """One preview: the live data read as a snapshot (`live`), then compared with `source`."""

    class State(models.TextChoices):
        RUNNING = "running", "Being computed"
        COMPLETE = "complete", "Complete"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    site = models.ForeignKey("sites.Site", on_delete=models.CASCADE, related_name="previews")
    operation = models.OneToOneField(
        "sites.Operation", null=True, blank=True, on_delete=models.SET_NULL, related_name="preview"
    )
    # The snapshot a restore would come from; a preview means nothing without it.
    source = models.ForeignKey("sites.Snapshot", on_delete=models.CASCADE, related_name="previews")
    # Asked from a Wix backup's restore page: that backup (its snapshot is `source`).
    backup = models.ForeignKey(
        "sites.Backup", null=True, blank=True, on_delete=models.SET_NULL, related_name="previews"
    )
    # The live reading: a snapshot of the site taken for this preview (or the one that was
    # being taken when it was asked). Gone (pruned since): item differences can no longer be read.
    live = models.ForeignKey(
        "sites.Snapshot",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="live_previews",
    )
    # Whether `live` was started by this preview (the snapshots list says "taken for a preview").
    live_taken_for_preview = models.BooleanField(default=False)
    # The source's collection ids compared, in the source's order.
    collections = models.JSONField(default=list)
    state = models.CharField(max_length=10, choices=State.choices, default=State.RUNNING)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    # While comparing: the collection being compared, and how many are done.
    progress_collection = models.CharField(max_length=255, blank=True)
    collections_done = models.PositiveIntegerField(default=0)
    # Why it failed, in words a site owner understands.
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["site", "-created_at"], name="preview_site_created")]

    def __str__(self) -> str:
        return f"preview of snapshot {self.source_id} ({self.state})"

    @property
    def is_finished(self) -> bool:
        return self.state != self.State.RUNNING


class PreviewCollection(models.Model):
    """One collection's counts in a preview, written once its comparison is whole."""

    preview = models.ForeignKey(Preview, on_delete=models.CASCADE, related_name="counts")
    position = models.PositiveIntegerField()
    collection_id = models.CharField(max_length=255)
    restore = models.PositiveIntegerField(default=0)
    revert = models.PositiveIntegerField(default=0)
    remove = models.PositiveIntegerField(default=0)
    same = models.PositiveIntegerField(default=0)
    # Whether the live data still has the collection (False: deleted since the snapshot).
    in_current = models.BooleanField(default=True)
    # Schema drift since the snapshot: field keys, and [field, old type, new type].
    fields_added = models.JSONField(default=list, blank=True)
    fields_removed = models.JSONField(default=list, blank=True)
    fields_retyped = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(
                fields=["preview", "collection_id"], name="preview_collection_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.collection_id}: {self.restore}/{self.revert}/{self.remove}/{self.same}"

    def count_of(self, kind: str) -> int:
        return {"restore": self.restore, "revert": self.revert, "remove": self.remove}[kind]


class PreviewChange(models.Model):
    """One item a restore would change: its kind, and where both its versions are stored."""

    KINDS = [("restore", "Deleted since"), ("revert", "Changed since"), ("remove", "Added since")]

    id = models.BigAutoField(primary_key=True)
    preview = models.ForeignKey(Preview, on_delete=models.CASCADE, related_name="changes")
    collection_id = models.CharField(max_length=255)
    item_id = models.TextField()
    kind = models.CharField(max_length=10, choices=KINDS)
    # Its place in the list of its collection and kind (0, 1, …): a page of the list is a range of
    # it, as cheap for the last page of 10,000 as for the first (an OFFSET would skip rows).
    position = models.PositiveIntegerField(default=0)
    # The entries (manifest.Entry as a segment line: id, hash, size, pack, at, len) in the
    # source and in the live reading; null on the side that lacks the item.
    source_entry = models.JSONField(null=True, blank=True)
    current_entry = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["preview", "collection_id", "kind", "position"], name="preview_change_list"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.collection_id}/{self.item_id}"
