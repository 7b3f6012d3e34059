"""Snapshots: one at a time per site, what a snapshot row offers and why not, retention and its
dry run, restore previews."""

from dataclasses import dataclass
from datetime import tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings

from ..models import (
    Backup,
    Operation,
    Profile,
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


@dataclass(frozen=True)
class RetentionPreview:
    """What the rules keep (newest first, with why) and what they would remove."""

    kept: list[tuple[Snapshot, str]]
    pruned: list[Snapshot]
    plan: RetentionPlan


def retention_preview(site: Site, rules: RetentionRules | None = None) -> RetentionPreview:
    """Which of the site's complete snapshots `rules` (default: the site's own) keep, and which
    they remove: the dry run the page shows before a change, and the plan a prune carries out.
    Running and failed snapshots are never part of it."""
    complete = {
        str(s.pk): s for s in site.snapshots.filter(state=Snapshot.State.COMPLETE).order_by()
    }
    refs = [SnapshotRef(pk, s.started_at, s.pinned) for pk, s in complete.items()]
    plan = plan_retention(refs, rules or retention_rules(site), tz=owner_time_zone(site))
    return RetentionPreview(
        kept=[(complete[pk], plan.reasons[pk]) for pk in plan.kept],
        pruned=[complete[pk] for pk in plan.pruned],
        plan=plan,
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
