"""Live fragments: the version-number poll, and what a screen reader is told after a change.

A live fragment carries two values in its poll URL:
- the version of what it shows (`Site.version`, moved by the engine on every change a page
  shows), so a poll of an unchanged page is answered 204 after one query (htmx swaps nothing:
  focus, scroll position and screen readers are left alone);
- the statuses of what was in flight when it was drawn ("watch"), so the answer after a change
  can tell a screen reader what changed ("Backup of 3 Mar 14:02: READY").
"""

import hashlib
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from .. import access
from ..batch import fetch_prepared
from ..models import Operation, Site

# After opening a page asked Wix for fresh data, the page polls this long for it to land.
REFRESH_WAIT = timedelta(seconds=30)

# A poll URL names at most this many watched items; the rest are ignored.
WATCH_LIMIT = 50


def refreshing(last_synced_at: datetime | None, refresh_since: float | None, now: float) -> bool:
    """Whether a page opened at `refresh_since` still waits for the refresh it asked for."""
    if refresh_since is None:
        return False
    synced = last_synced_at.timestamp() if last_synced_at else 0.0
    return synced < refresh_since and 0 <= now - refresh_since < REFRESH_WAIT.total_seconds()


def site_version_text(version: int, refreshing: bool) -> str:
    # The wait for a refresh is part of what the page shows ("Fetching the latest from Wix…").
    return f"{version}r" if refreshing else str(version)


def dashboard_version_text(versions: Iterable[tuple[Any, int]]) -> str:
    """One value for all of an owner's sites: changes when any site changes, comes or goes."""
    parts = repr(sorted((str(pk), version) for pk, version in versions))
    return hashlib.blake2b(parts.encode(), digest_size=8).hexdigest()


# The three reads below run for every poll of every open page: each is compiled once and
# prepared on the server (sites/batch.py), one row by its key, with no ordering (the model's
# default would cost the ORM more than the database).


def site_version(
    *, owner: AbstractBaseUser, site_id: Any, refresh_since: float | None = None
) -> str | None:
    """The version a site's page would show now, in one query (None: not the owner's site)."""
    site_id = access.as_uuid(site_id)
    if owner.pk is None or site_id is None:
        return None
    (rows,), _ = fetch_prepared(
        "site-version",
        [owner.pk, site_id],
        lambda: [
            access.visible_sites(owner)
            .filter(pk=site_id)
            .values_list("version", "last_synced_at")
            .order_by()[:1]
        ],
    )
    if not rows:
        return None
    version, synced = rows[0]
    return site_version_text(version, refreshing(synced, refresh_since, time.time()))


def dashboard_version(*, owner: AbstractBaseUser) -> str:
    """The version the owner's dashboard would show now, in one query."""
    if owner.pk is None:
        return dashboard_version_text(())
    (versions,), _ = fetch_prepared(
        "dashboard-version",
        [owner.pk],
        lambda: [access.visible_sites(owner).values_list("pk", "version").order_by()],
    )
    return dashboard_version_text(versions)


def operation_version(*, owner: AbstractBaseUser, site_id: Any, operation_id: Any) -> str | None:
    """The version an operation's page would show now, in one query (None: not the owner's)."""
    site_id, operation_id = access.as_uuid(site_id), access.as_uuid(operation_id)
    if owner.pk is None or site_id is None or operation_id is None:
        return None
    (rows,), _ = fetch_prepared(
        "operation-version",
        [owner.pk, operation_id, site_id],
        lambda: [
            access.visible_operations(owner)
            .filter(pk=operation_id, site_id=site_id)
            .values_list("site__version")
            .order_by()[:1]
        ],
    )
    return str(rows[0][0]) if rows else None


def encode_watch(states: dict[str, str]) -> str:
    return ",".join(f"{key}:{status}" for key, status in sorted(states.items()))


def parse_watch(raw: str) -> dict[str, str]:
    """The watch list from a poll URL; anything malformed is skipped (it is only a hint)."""
    states: dict[str, str] = {}
    for entry in raw.split(",")[:WATCH_LIMIT]:
        key, _, status = entry.partition(":")
        kind, _, ident = key.partition(".")
        if kind in ("b", "r", "o") and 0 < len(ident) <= 64 and 0 < len(status) <= 32:
            states[key] = status
    return states


@dataclass
class Announcement:
    """One change a screen reader is told about; the template words it."""

    kind: str  # "backup", "restoration" or "operation"
    obj: Any
    status: str
    site: Site | None = None


@dataclass
class Live:
    version: str
    watch: str
    in_flight: bool
    announcements: list[Announcement] = field(default_factory=list)


def finished_operations(site_ids: Iterable[Any], watched: dict[str, str]) -> dict[str, Operation]:
    """Watched operations (by id) that are no longer running: one query, bounded by the watch."""
    ids = [key[2:] for key in watched if key.startswith("o.")]
    if not ids:
        return {}
    # Ids come from the URL: only well-formed UUIDs reach the query.
    valid = [i for i in ids if access.as_uuid(i) is not None]
    rows = Operation.objects.filter(pk__in=valid, site_id__in=list(site_ids)).exclude(
        state__in=Operation.RUNNING
    )
    return {str(op.pk): op for op in rows.select_related("site")}
