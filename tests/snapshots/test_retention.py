"""Retention as borg prune does it: pure functions of times, rules and pins."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from sites.snapshots import DEFAULT_RULES, RetentionRules, SnapshotRef, plan_retention

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)  # a Friday


def _refs(*hours_ago: float, pinned: tuple[int, ...] = ()) -> list[SnapshotRef]:
    return [
        SnapshotRef(f"s{n}", NOW - timedelta(hours=h), pinned=n in pinned)
        for n, h in enumerate(hours_ago)
    ]


def _daily(days: int) -> list[SnapshotRef]:
    """One snapshot a day at noon, the newest today: s0 today, s1 yesterday..."""
    return _refs(*(24 * d for d in range(days)))


@pytest.mark.parametrize(
    ("refs", "rules", "kept"),
    [
        # keep_last alone: the N newest.
        (_daily(5), RetentionRules(3, 0, 0, 0), ["s0", "s1", "s2"]),
        # Several a day: daily keeps the newest of each day.
        (
            _refs(0, 1, 2, 24, 25, 48),
            RetentionRules(0, 3, 0, 0),
            ["s0", "s3", "s5"],
        ),
        # A day whose newest keep_last took is not taken twice: daily reaches further back.
        (_refs(0, 1, 24, 48), RetentionRules(1, 2, 0, 0), ["s0", "s2", "s3"]),
        # Fewer periods than the rule allows: the oldest is kept too ("[oldest]").
        (_refs(0, 1, 2), RetentionRules(0, 0, 0, 12), ["s0", "s2"]),
        # Weekly: newest of each ISO week; 14 daily snapshots span 3 weeks (Fri back to Sat).
        (_daily(14), RetentionRules(0, 0, 2, 0), ["s0", "s5"]),
        # Monthly over 100 days: the newest of each of 4 months.
        (_daily(100), RetentionRules(0, 0, 0, 3), ["s0", "s27", "s58"]),
        # Nothing to keep from.
        ([], DEFAULT_RULES, []),
    ],
)
def test_rules(refs, rules, kept):
    plan = plan_retention(refs, rules)
    assert list(plan.kept) == kept
    assert sorted(plan.kept + plan.pruned) == sorted(r.snapshot_id for r in refs)


def test_the_defaults_over_a_year_of_dailies():
    plan = plan_retention(_daily(400))
    assert RetentionRules(keep_last=10, daily=7, weekly=4, monthly=12) == DEFAULT_RULES
    # 10 last; the 7 days after them; 4 weeks beyond those; 12 months beyond those.
    assert plan.kept[:10] == tuple(f"s{n}" for n in range(10))
    assert sum(1 for r in plan.reasons.values() if r.startswith("daily")) == 7
    assert sum(1 for r in plan.reasons.values() if r.startswith("weekly")) == 4
    assert sum(1 for r in plan.reasons.values() if r.startswith("monthly")) == 12
    assert len(plan.kept) == 33 and len(plan.pruned) == 400 - 33


def test_pinned_are_never_pruned_and_take_no_slot():
    refs = _daily(10)
    refs[9] = SnapshotRef("s9", refs[9].taken_at, pinned=True)
    refs[0] = SnapshotRef("s0", refs[0].taken_at, pinned=True)
    plan = plan_retention(refs, RetentionRules(2, 0, 0, 0))
    assert plan.kept == ("s0", "s1", "s2", "s9")
    assert plan.reasons["s9"] == "pinned" and plan.reasons["s1"] == "last 1"


def test_days_are_those_of_the_owners_time_zone():
    # 00:30 and 23:30 UTC the evening before: two days in UTC, one in Honolulu (UTC-10).
    late = SnapshotRef("late", datetime(2026, 11, 27, 0, 30, tzinfo=UTC))
    early = SnapshotRef("early", datetime(2026, 11, 26, 23, 30, tzinfo=UTC))
    older = SnapshotRef("older", datetime(2026, 11, 20, 12, 0, tzinfo=UTC))
    rules = RetentionRules(0, 5, 0, 0)
    assert plan_retention([late, early, older], rules).kept == ("late", "early", "older")
    honolulu = plan_retention([late, early, older], rules, tz=ZoneInfo("Pacific/Honolulu"))
    assert honolulu.kept == ("late", "older") and honolulu.pruned == ("early",)


def test_a_dry_run_is_the_same_pure_call():
    refs = _daily(30)
    assert plan_retention(refs) == plan_retention(list(reversed(refs)))


@pytest.mark.parametrize("counts", [(0, 0, 0, 0), (-1, 1, 1, 1), (1.5, 1, 1, 1), (True, 1, 1, 1)])
def test_rules_that_keep_nothing_or_are_not_counts_are_refused(counts):
    with pytest.raises(ValueError):
        RetentionRules(*counts)


def test_naive_times_are_refused():
    with pytest.raises(ValueError, match="naive"):
        plan_retention([SnapshotRef("a", datetime(2026, 1, 1))])
