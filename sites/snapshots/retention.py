"""Which snapshots a site keeps: pure functions of the snapshots' times and the site's rules,
with `borg prune`'s semantics, so a dry run is the same call and nothing here touches storage.

The rules, applied in this order to the snapshots that are not pinned, newest first:

- `keep_last` N: the N newest;
- `daily` D, `weekly` W, `monthly` M: for each of the D most recent days (ISO weeks, months)
  that have a snapshot, the newest snapshot of that period. A period whose newest snapshot an
  earlier rule already keeps still counts as seen: the rule does not take a second one from it,
  and does not count it either (borg's `kept_because`), so it reaches further back.
- When a rule finds fewer periods than it may keep, it keeps the oldest snapshot as well
  (borg 1.2's "[oldest]"), so a young site's first snapshot is not lost to the monthly rule.

Pinned snapshots are always kept and stand outside the rules: pinning one never takes a slot.
Periods are of the owner's time zone (`tz`), as the page shows days.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

# The defaults, here only: the page shows them and a site may change them.
DEFAULT_KEEP_LAST = 10
DEFAULT_DAILY = 7
DEFAULT_WEEKLY = 4
DEFAULT_MONTHLY = 12


@dataclass(frozen=True, slots=True)
class RetentionRules:
    keep_last: int = DEFAULT_KEEP_LAST
    daily: int = DEFAULT_DAILY
    weekly: int = DEFAULT_WEEKLY
    monthly: int = DEFAULT_MONTHLY

    def __post_init__(self) -> None:
        counts = (self.keep_last, self.daily, self.weekly, self.monthly)
        if any(not isinstance(n, int) or isinstance(n, bool) or n < 0 for n in counts):
            raise ValueError("retention counts are whole numbers, 0 or more")
        if not any(counts):
            raise ValueError("at least one retention rule must keep a snapshot")


DEFAULT_RULES = RetentionRules()


@dataclass(frozen=True, slots=True)
class SnapshotRef:
    snapshot_id: str
    taken_at: datetime
    pinned: bool = False


@dataclass(frozen=True, slots=True)
class RetentionPlan:
    # Newest first, both.
    kept: tuple[str, ...]
    pruned: tuple[str, ...]
    # Why each kept snapshot is kept: "pinned", "last 1", "daily 3", "monthly 12 (oldest)"…
    reasons: dict[str, str]


def plan_retention(
    snapshots: Iterable[SnapshotRef], rules: RetentionRules = DEFAULT_RULES, *, tz: tzinfo = UTC
) -> RetentionPlan:
    """Which snapshots the rules keep and which they prune (a dry run is just this call)."""
    everything = sorted(snapshots, key=lambda s: (s.taken_at, s.snapshot_id), reverse=True)
    for snapshot in everything:
        if snapshot.taken_at.tzinfo is None:
            raise ValueError(f"snapshot {snapshot.snapshot_id} has a naive taken_at")
    reasons = {s.snapshot_id: "pinned" for s in everything if s.pinned}
    candidates = [s for s in everything if not s.pinned]
    _keep_last(candidates, rules.keep_last, reasons)
    periods: list[tuple[str, int, Callable[[datetime], Hashable]]] = [
        ("daily", rules.daily, lambda when: when.date()),
        ("weekly", rules.weekly, lambda when: tuple(when.isocalendar())[:2]),
        ("monthly", rules.monthly, lambda when: (when.year, when.month)),
    ]
    for rule, count, period_of in periods:
        _keep_per_period(candidates, rule, count, period_of, tz, reasons)
    kept = tuple(s.snapshot_id for s in everything if s.snapshot_id in reasons)
    pruned = tuple(s.snapshot_id for s in everything if s.snapshot_id not in reasons)
    return RetentionPlan(kept, pruned, reasons)


def _keep_last(candidates: list[SnapshotRef], count: int, reasons: dict[str, str]) -> None:
    for number, snapshot in enumerate(candidates[:count], start=1):
        reasons.setdefault(snapshot.snapshot_id, f"last {number}")


def _keep_per_period(
    candidates: list[SnapshotRef],
    rule: str,
    count: int,
    period_of: Callable[[datetime], Hashable],
    tz: tzinfo,
    reasons: dict[str, str],
) -> None:
    if count == 0 or not candidates:
        return
    kept = 0
    last: object = object()
    for snapshot in candidates:
        period = period_of(snapshot.taken_at.astimezone(tz))
        if period == last:
            continue
        last = period
        if snapshot.snapshot_id not in reasons:
            kept += 1
            reasons[snapshot.snapshot_id] = f"{rule} {kept}"
            if kept == count:
                return
    oldest = candidates[-1]
    if oldest.snapshot_id not in reasons:
        reasons[oldest.snapshot_id] = f"{rule} {kept + 1} (oldest)"
