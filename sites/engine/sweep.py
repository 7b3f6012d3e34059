"""The sweeper: on a fixed beat, claim what is due and say which worker task should take it.

Waiting is data (`Operation.due_at`), not a sleeping task: a crashed worker, a lost message or an
empty Redis only delay work until the next sweep.
"""

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ..models import Backup, Operation, Restoration, Site
from .states import claim_sites, waiting_on_rotation

# Upper bound of rows one sweep claims, so one sweep stays short whatever the backlog.
SWEEP_BATCH = 2000

# Sites per refresh task when many are due: enough to pay a task's own cost once for several
# sites (bench/scale.py), few enough that one task stays short and the due sites still spread
# over every worker process.
REFRESH_CHUNK = 10
SPREAD = 4


@dataclass
class SweepResult:
    submits: list[str]
    refreshes: list[str]  # sites claimed for a refresh
    watches: list[str] = field(default_factory=list)  # sites claimed for a full refresh
    # Snapshot and verify operations to hand to the snapshot queue (never to submit): new ones
    # whose hand-over was lost, ones waiting out a backoff, and ones whose worker died.
    snapshots: list[str] = field(default_factory=list)


def refresh_chunks(site_ids: Iterable[str]) -> Iterator[list[str]]:
    """The sites in groups for refresh tasks: at least SPREAD tasks when there are that many
    sites (each can start at once on a free worker), at most REFRESH_CHUNK sites per task."""
    ids = list(site_ids)
    size = min(REFRESH_CHUNK, max(1, math.ceil(len(ids) / SPREAD)))
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def sweep() -> SweepResult:
    """Claim what is due: queued operations to submit, and sites with operations to poll.

    A site is claimed as a whole, so however many of its operations are due, one refresh (one
    list call) serves them all, and no second refresh starts while one runs.
    """
    now = timezone.now()
    lease = now + timedelta(seconds=settings.WBM_CLAIM_SECONDS)
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    with transaction.atomic():
        due = list(
            Operation.objects.select_for_update(skip_locked=True)
            .filter(free, state=Operation.State.QUEUED, due_at__lte=now)
            .filter(~waiting_on_rotation())
            .order_by("due_at")
            .values_list("pk", "kind")[:SWEEP_BATCH]
        )
        # Not handed out again until the lease ends, unless the work reschedules it sooner.
        Operation.objects.filter(pk__in=[pk for pk, _ in due]).update(due_at=lease)
    queued = [pk for pk, kind in due if kind not in Operation.SNAPSHOT_KINDS]
    snapshots = [str(pk) for pk, kind in due if kind in Operation.SNAPSHOT_KINDS]
    # Sweeps run on a fixed beat, and a refresh sets the next poll a moment after a sweep: a poll
    # due before the next sweep is halfway comes now, else it waits a whole sweep more (2 s polls
    # with 2 s sweeps were 4 s apart; bench/wix_calls.py, bench/freshness.py).
    horizon = now + timedelta(seconds=settings.WBM_SWEEP_INTERVAL / 2)
    due_sites = set(
        Operation.objects.filter(state=Operation.State.SUBMITTED, due_at__lte=horizon)
        .values_list("site_id", flat=True)
        .distinct()[:SWEEP_BATCH]
    )
    refreshes = claim_sites(due_sites, now)
    # Work nobody here asked for (Wix's AUTO backups, a restore started in Wix's own screen) is
    # watched too while it runs (PENDING, or a restoration IN_PROGRESS), so its badge turns final
    # within seconds, not at the next periodic sync.
    stale = now - timedelta(seconds=settings.WBM_WATCH_INTERVAL)
    watched = (
        set(
            Site.objects.filter(
                Q(backups__status=Backup.PENDING) | Q(restorations__status__in=Restoration.RUNNING),
                Q(last_synced_at__isnull=True) | Q(last_synced_at__lt=stale),
            )
            .values_list("pk", flat=True)
            .distinct()[:SWEEP_BATCH]
        )
        - due_sites
    )
    watches = claim_sites(watched, now)
    return SweepResult(
        submits=[str(pk) for pk in queued],
        refreshes=refreshes,
        watches=watches,
        snapshots=snapshots,
    )
