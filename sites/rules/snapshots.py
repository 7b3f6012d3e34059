"""Snapshots: one at a time per site, what a snapshot row offers and why not, retention and its
dry run, restore previews."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.utils import timezone

from ..models import (
    Backup,
    Operation,
    Preview,
    Profile,
    RestoreRun,
    Site,
    Snapshot,
)
from ..snapshots import RetentionPlan, RetentionRules, SnapshotRef, plan_retention

# --- Snapshots ---------------------------------------------------------------------------------


def snapshot_running(site: Site) -> Operation | None:
    """The site's snapshot being taken, if any: one at a time per site (a second request
    returns this one)."""
    return (
        site.operations.filter(kind=Operation.Kind.SNAPSHOT, state__in=Operation.RUNNING)
        .order_by("created_at")
        .first()
    )


def snapshot_delete_refusal(snapshot: Snapshot) -> str:
    """Why this snapshot cannot be deleted now ("" when it can)."""
    if snapshot.state == Snapshot.State.RUNNING:
        return "This snapshot is still being taken; it can be deleted once it ends."
    if snapshot.pinned:
        return "This snapshot is pinned; unpin it before deleting it."
    return ""


def snapshot_use_refusal(snapshot: Snapshot) -> str:
    """Why this snapshot cannot be verified, pinned or downloaded ("" when it can): only a
    complete one holds anything usable."""
    if snapshot.state == Snapshot.State.RUNNING:
        return "This snapshot is still being taken."
    if snapshot.state != Snapshot.State.COMPLETE:
        return "This snapshot failed; it holds nothing to use."
    return ""


@dataclass(frozen=True)
class SnapshotActions:
    """What a snapshot's row offers, each with why it is unavailable ("" when available)."""

    download_refusal: str
    verify_refusal: str
    pin_refusal: str
    delete_refusal: str


def snapshot_actions(snapshot: Snapshot, *, verifying: bool = False) -> SnapshotActions:
    """`verifying`: a verify of this snapshot is queued or running (a second is not offered)."""
    usable = snapshot_use_refusal(snapshot)
    verify = usable or ("A verify of this snapshot is running." if verifying else "")
    return SnapshotActions(
        download_refusal=usable,
        verify_refusal=verify,
        pin_refusal=usable,
        delete_refusal=snapshot_delete_refusal(snapshot),
    )


def retention_rules(site: Site) -> RetentionRules:
    """The site's retention rules (defaults in sites/snapshots/retention.py)."""
    return RetentionRules(
        keep_last=site.snapshot_keep_last,
        daily=site.snapshot_keep_daily,
        weekly=site.snapshot_keep_weekly,
        monthly=site.snapshot_keep_monthly,
    )


def retention_refusal(*, keep_last: int, daily: int, weekly: int, monthly: int) -> str:
    """Why these retention rules cannot be set ("" when they can)."""
    try:
        RetentionRules(keep_last=keep_last, daily=daily, weekly=weekly, monthly=monthly)
    except ValueError as error:
        return str(error).capitalize() + "."
    return ""


def owner_time_zone(site: Site) -> tzinfo:
    """The zone whose days, weeks and months the retention counts: the owner's own."""
    name = Profile.objects.filter(user_id=site.owner_id).values_list("time_zone", flat=True).first()
    try:
        return ZoneInfo(name or settings.TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


# A restore preview's live reading is kept while its preview is computed and for a day after
# it was asked: the preview says "as read 3 minutes ago" and asks for a fresh reading when the
# live data may have moved on, so a day-old reading serves no decision; its counts stay, only its
# items' field differences can no longer be read. Its preview gone, nothing reads it.
PREVIEW_READING_KEPT = timedelta(days=1)
# A restore's safety snapshot is kept while the restore runs and for a week after it ended: the
# time its "Undo this restore" is offered (an undo needs it; rules.undo_refusal). Then it goes:
# the owner's own snapshots keep the site's history. Pinned, it stays like any pinned snapshot.
SAFETY_KEPT = timedelta(days=7)

KEPT_APART_WORDS = {
    Snapshot.TakenFor.PREVIEW: "kept a day for its preview, apart from the retention rules",
    Snapshot.TakenFor.READING: (
        "read after a Wix restore for what it changed; kept a day, apart from the retention rules"
    ),
    Snapshot.TakenFor.SAFETY: (
        f"kept {SAFETY_KEPT.days} days after its restore for Undo, apart from the retention rules"
    ),
}


def kept_apart_words(snapshot: Snapshot) -> str:
    """What the snapshots list says of a preview's reading or a safety snapshot ("" for the
    owner's): they are not the owner's copies and do not count against the rules."""
    return KEPT_APART_WORDS.get(snapshot.taken_for, "")


# Why a snapshot a queued or running restore (an undo too), or a running preview, reads is kept.
READ_NOW = "read by a restore or a restore preview now"


@dataclass(frozen=True)
class Uses:
    """What still needs a preview reading or a safety snapshot: the end of each restore it is
    the safety snapshot of (None while it runs), whether a restore (an Undo) or a preview reads it
    now (`_read_now`),
    and each preview reading it (running, asked at)."""

    restores_ended: list[datetime | None] = field(default_factory=list)
    read_now: bool = False
    previews: list[tuple[bool, datetime]] = field(default_factory=list)
    # Each Wix restore it is the reading of: whether its changes are counted yet.
    readings_counted: list[bool] = field(default_factory=list)


def kept_apart(snapshot: Snapshot, uses: Uses, now: datetime) -> str:
    """Why a preview's live reading or a restore's safety snapshot is kept now ("" when it goes),
    whatever it was taken for (one may serve as the other too)."""
    if snapshot.pinned:
        return "pinned"
    if uses.read_now:
        return READ_NOW
    for ended in uses.restores_ended:
        if ended is None or now - ended < SAFETY_KEPT:
            return "safety snapshot of a recent restore (Undo)"
    for running, asked in uses.previews:
        if running or now - asked < PREVIEW_READING_KEPT:
            return "live reading of a recent restore preview"
    if not all(uses.readings_counted):
        return "reading of a Wix restore, its changes not counted yet"
    if snapshot.taken_for == Snapshot.TakenFor.READING and now - snapshot.started_at < (
        PREVIEW_READING_KEPT
    ):
        return "reading of a recent Wix restore"
    return ""


def _uses(snapshots: list[Snapshot], read_now: set[str]) -> dict[str, Uses]:
    """What needs each of these snapshots (`read_now`: those a restore or a preview reads, see
    `_read_now`), in three queries (none when there are none)."""
    if not snapshots:
        return {}
    ids = [s.pk for s in snapshots]
    ended: dict[str, list[datetime | None]] = defaultdict(list)
    for safety_id, state, finished in RestoreRun.objects.filter(safety_id__in=ids).values_list(
        "safety_id", "operation__state", "operation__finished_at"
    ):
        ended[str(safety_id)].append(None if state in Operation.RUNNING else finished)
    previews: dict[str, list[tuple[bool, datetime]]] = defaultdict(list)
    for live_id, state, asked in Preview.objects.filter(live_id__in=ids).values_list(
        "live_id", "state", "created_at"
    ):
        previews[str(live_id)].append((state == Preview.State.RUNNING, asked))
    counted: dict[str, list[bool]] = defaultdict(list)
    for reading_id, counted_at in RestoreRun.objects.filter(reading_id__in=ids).values_list(
        "reading_id", "counted_at"
    ):
        counted[str(reading_id)].append(counted_at is not None)
    return {
        str(pk): Uses(ended[str(pk)], str(pk) in read_now, previews[str(pk)], counted[str(pk)])
        for pk in ids
    }


def _read_now(site: Site) -> set[str]:
    """The site's snapshots a queued or running restore, or a running preview, reads (two
    queries)."""
    restores = RestoreRun.objects.filter(
        operation__site=site, operation__state__in=Operation.RUNNING, source__isnull=False
    ).values_list("source_id", flat=True)
    previews = Preview.objects.filter(site=site, state=Preview.State.RUNNING).values_list(
        "source_id", flat=True
    )
    return {str(pk) for pk in [*restores, *previews]}


@dataclass(frozen=True)
class RetentionPreview:
    """What the rules keep (newest first, with why) and what they would remove, of the owner's
    snapshots; and of the previews' readings and safety snapshots, kept apart, which their own
    rule (`kept_apart`) keeps and which it removes."""

    kept: list[tuple[Snapshot, str]]
    pruned: list[Snapshot]
    plan: RetentionPlan
    apart_kept: list[tuple[Snapshot, str]] = field(default_factory=list)
    apart_pruned: list[Snapshot] = field(default_factory=list)


def retention_preview(
    site: Site, rules: RetentionRules | None = None, *, now: datetime | None = None
) -> RetentionPreview:
    """Which of the site's complete snapshots `rules` (default: the site's own) keep, and which
    they remove: the dry run the page shows before a change, and the plan a prune carries out.
    Running and failed snapshots are never part of it. The rules count the owner's snapshots
    only: a preview's live reading or a safety snapshot never takes the place of one of them."""
    now = now or timezone.now()
    complete: dict[str, Snapshot] = {}
    apart: list[Snapshot] = []
    for s in site.snapshots.filter(state=Snapshot.State.COMPLETE).order_by("-started_at", "-id"):
        if s.taken_for == Snapshot.TakenFor.OWNER:
            complete[str(s.pk)] = s
        else:
            apart.append(s)
    refs = [SnapshotRef(pk, s.started_at, s.pinned) for pk, s in complete.items()]
    plan = plan_retention(refs, rules or retention_rules(site), tz=owner_time_zone(site))
    # A snapshot a restore or a preview still has to read stays until it is done, whatever the
    # rules say: pruned under it, the restore would fail half-written or the preview vanish.
    busy = _read_now(site) if plan.pruned or apart else set()
    uses = _uses(apart, busy)
    why = {s.pk: kept_apart(s, uses[str(s.pk)], now) for s in apart}
    return RetentionPreview(
        kept=[(complete[pk], plan.reasons[pk]) for pk in plan.kept]
        + [(complete[pk], READ_NOW) for pk in plan.pruned if pk in busy],
        pruned=[complete[pk] for pk in plan.pruned if pk not in busy],
        plan=plan,
        apart_kept=[(s, why[s.pk]) for s in apart if why[s.pk]],
        apart_pruned=[s for s in apart if not why[s.pk]],
    )


# --- Restore previews --------------------------------------------------------------------------

# Items per page of a preview's list (the page costs the same queries whatever the count).
PREVIEW_PAGE_SIZE = 50
# An item's history looks at the site's newest complete snapshots, this many a page (each one's
# segments of the item's collection are read).
HISTORY_PAGE_SIZE = 10
# The previews of a site kept (the newest; older ones and their item lists are dropped).
PREVIEWS_KEPT = 5


def preview_refusal(snapshot: Snapshot) -> str:
    """Why a restore from this snapshot cannot be previewed ("" when it can)."""
    return snapshot_use_refusal(snapshot)


def backup_snapshot(backup: Backup) -> Snapshot | None:
    """The complete snapshot taken with this Wix backup ("Back up now" with a snapshot), through
    which its restore can be previewed; None when it has none."""
    return backup.snapshots.filter(state=Snapshot.State.COMPLETE).order_by("-started_at").first()
