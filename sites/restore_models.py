"""What a restore needs beyond its `Operation` (docs/snapshots.md, "Restores"): the safety snapshot
taken before it, and for a restore from a snapshot its source, mode, choice and checkpoint.

Data only (no import of sites/models.py, which imports this module at its end so Django
registers the model: the relations are named as strings); written by the engine
(engine/restore_requests.py, engine/restore_run.py).
"""

from typing import Any

from django.db import models


class RestoreRun(models.Model):
    """One restore (from a Wix backup or from a snapshot), as the engine carries it out."""

    class Mode(models.TextChoices):
        WIX = "wix", "Wix restore"
        WHOLE = "whole", "Whole collections"
        MERGE = "merge", "Merge"
        ITEMS = "items", "Chosen items"

    # The modes of a restore from a snapshot (a Wix restore is Wix's own).
    SNAPSHOT_MODES = (Mode.WHOLE, Mode.MERGE, Mode.ITEMS)
    # How many items a restore that stopped names by id (the counts are always whole).
    LEFT_KEPT = 20

    operation = models.OneToOneField(
        "sites.Operation", on_delete=models.CASCADE, related_name="restore_run"
    )
    mode = models.CharField(max_length=8, choices=Mode.choices)
    # Taken before the restore writes anything; the restore waits for it, and "Undo this
    # restore" restores it. Null once deleted (the Undo is then no longer offered).
    safety = models.ForeignKey(
        "sites.Snapshot",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="safety_for",
    )
    # A restore from a snapshot: the snapshot it writes back, its collections (ids, sorted) and,
    # in the chosen-items mode, {collection id: [item ids]}.
    source = models.ForeignKey(
        "sites.Snapshot",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="restored_by",
    )
    collections = models.JSONField(default=list, blank=True)
    items = models.JSONField(default=dict, blank=True)
    # "Undo this restore": the restore it undoes.
    undo_of = models.ForeignKey(
        "sites.Operation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="undone_by",
    )
    # A Wix restore, once Wix says COMPLETED: the snapshot reading the site after it (no Wix slot
    # used), compared with `safety` for what it changed per collection (engine/restore_reading.py),
    # and when that was counted (or found unreadable): once, by compare-and-swap.
    reading = models.ForeignKey(
        "sites.Snapshot",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reading_for",
    )
    counted_at = models.DateTimeField(null=True, blank=True)
    # The checkpoint, written after each bulk call: the collection (index in `collections`), the
    # phase ("save" then "remove") and how many of that phase's changes are written.
    position = models.JSONField(default=dict, blank=True)
    # What it wrote: {collection id: {"restored", "reverted", "removed", "failed"}}; for a Wix
    # restore what it changed: {collection id: {"restored", "reverted", "removed", "unchanged"}}.
    counts = models.JSONField(default=dict, blank=True)
    # What it did not write when it stopped or Wix refused items: {"count", "items": [{"collection",
    # "item_id", "reason"}]} (the first LEFT_KEPT).
    left = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"restore run of {self.operation_id} ({self.mode})"

    @property
    def from_snapshot(self) -> bool:
        return self.mode in self.SNAPSHOT_MODES

    def changed_total(self) -> dict[str, int]:
        """The counts of every collection added up."""
        total: dict[str, int] = {"restored": 0, "reverted": 0, "removed": 0, "failed": 0}
        for counts in self.counts.values():
            for key, value in counts.items():
                total[key] = total.get(key, 0) + int(value)
        return total

    @staticmethod
    def empty_counts() -> dict[str, Any]:
        return {"restored": 0, "reverted": 0, "removed": 0, "failed": 0}
