"""Schedules and pins: rows the owner sets, read by the beat tick (engine/schedules.py) and the
rotation (engine/rotation.py). Data only; the rules are in sites/schedules.py and sites/rules.py.
"""

from datetime import time

from django.conf import settings
from django.db import models
from django.utils import timezone

# Site and Operation by name, not imported: sites/models.py imports this module at its end.


class Schedule(models.Model):
    """When a site's snapshots, or its Wix on-demand backups, are asked for without a click.

    At most one row per site and kind; a site without one has that schedule off (shown paused).
    `next_run_at` is the one time the beat tick reads: it is None while paused, and moved by
    compare-and-swap when a run is claimed, so each slot runs once however many ticks race.
    """

    class Kind(models.TextChoices):
        SNAPSHOT = "snapshot", "Snapshots"
        BACKUP = "backup", "Wix backups"

    class Frequency(models.TextChoices):
        HOURLY = "hourly", "Every hour"
        DAILY = "daily", "Every day"
        WEEKLY = "weekly", "Every week"

    WEEKDAYS = [
        (0, "Monday"), (1, "Tuesday"), (2, "Wednesday"), (3, "Thursday"),
        (4, "Friday"), (5, "Saturday"), (6, "Sunday"),
    ]  # fmt: skip

    site = models.ForeignKey("sites.Site", on_delete=models.CASCADE, related_name="schedules")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    frequency = models.CharField(max_length=10, choices=Frequency.choices)
    # A time of the owner's day in their own zone (Profile.time_zone); hourly reads the minute.
    at = models.TimeField(default=time(3, 0))
    # Weekly only: Monday is 0 (Python's `weekday()`).
    weekday = models.PositiveSmallIntegerField(default=0)
    paused = models.BooleanField(default=False)
    next_run_at = models.DateTimeField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    # The operation the last run asked for (None when the rules refused it: `last_error` says why).
    last_operation = models.ForeignKey(
        "sites.Operation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_error = models.TextField(blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["site", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["site", "kind"], name="schedule_one_per_kind")
        ]
        indexes = [
            # The beat tick's one lookup: due, not paused.
            models.Index(
                fields=["next_run_at"],
                condition=models.Q(paused=False, next_run_at__isnull=False),
                name="schedule_due",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.site_id}: {self.frequency}"


class BackupPin(models.Model):
    """ "Keep this one": a pinned on-demand backup is never what a new backup makes Wix evict
    (the product deletes the oldest unpinned one first, engine/rotation.py). A row of its own,
    not a field of `Backup`, which is written only from Wix's answers."""

    site = models.ForeignKey("sites.Site", on_delete=models.CASCADE, related_name="pins")
    backup_wix_id = models.CharField(max_length=64)
    pinned_at = models.DateTimeField(default=timezone.now)
    pinned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["site", "backup_wix_id"], name="pin_unique_per_site")
        ]

    def __str__(self) -> str:
        return f"pin of {self.backup_wix_id}"
