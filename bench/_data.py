"""Owners' data for the page benchmarks, written straight into the mirror as a sync would.

Every site gets the same shape whatever its size, so a small and a large owner take the same
branches of the pages' code and differ only in how many rows there are: backups of every status
and type (the newest PENDING), restorations (the oldest from a backup beyond the page's first
screen, or no longer listed at all), a running backup and a running delete, finished operations,
and activity.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.utils import timezone

from sites import crypto
from sites.models import Activity, Backup, Operation, Restoration, Site

COLLECTIONS = [
    {"id": "Products", "displayName": "Products"},
    {"id": "BlogPosts", "displayName": "Blog Posts"},
    {"id": "Customers", "displayName": "Customers"},
]
KEY = "IST.bench-key-of-the-shop-0000"
BATCH = 5000


def _status(i: int) -> str:
    if i == 0:
        return Backup.PENDING
    if i % 10 == 9:
        return Backup.DELETED
    if i % 17 == 16:
        return Backup.FAILED
    return Backup.READY


def populate(
    owner: AbstractBaseUser,
    *,
    sites: int,
    backups: int,
    restorations: int = 3,
    activities: int = 10,
    base_url: str = "https://www.wixapis.com",
) -> list[Site]:
    """`sites` sites of `owner`, each with `backups` backups and the rest of its shape."""
    now = timezone.now()
    made = Site.objects.bulk_create(
        [
            Site(
                owner=owner,
                name=f"Shop {n:03d}",
                wix_site_id=str(uuid.uuid4()),
                secret_encrypted=crypto.encrypt(KEY),
                secret_hint=KEY[-4:],
                api_base_url=base_url,
                # Synced just now: opening a page asks no refresh of Wix.
                last_synced_at=now,
            )
            for n in range(sites)
        ]
    )
    rows: list[Backup] = []
    for site in made:
        for i in range(backups):
            status = _status(i)
            requested = now - timedelta(hours=i + 1)
            rows.append(
                Backup(
                    site=site,
                    wix_id=str(uuid.uuid4()),
                    status=status,
                    type=Backup.AUTO if i % 4 == 3 else Backup.ON_DEMAND,
                    requested_at=requested,
                    started_at=requested + timedelta(seconds=1),
                    finished_at=None
                    if status == Backup.PENDING
                    else requested + timedelta(seconds=30),
                    deleted_at=requested + timedelta(days=2) if status == Backup.DELETED else None,
                    size_in_bytes=1_572_864 + i if status == Backup.READY else None,
                    collections=COLLECTIONS,
                    seen_at=now,
                )
            )
        if len(rows) >= BATCH:
            Backup.objects.bulk_create(rows, batch_size=BATCH)
            rows = []
    Backup.objects.bulk_create(rows, batch_size=BATCH)

    restoration_rows, operation_rows = [], []
    for site in made:
        listed = list(
            Backup.objects.filter(site=site)
            .order_by("-requested_at")
            .values_list("wix_id", "status")
        )
        ready = [wix_id for wix_id, status in listed if status == Backup.READY]
        far = [w for w, s in listed[60:] if s == Backup.READY]
        for j in range(restorations):
            if j == 0:
                # The oldest comes from a backup far down the list, or one Wix no longer lists:
                # the page names it without a query per row.
                source = far[0] if far else f"gone-{uuid.uuid4()}"
            else:
                source = ready[j % len(ready)] if ready else f"gone-{uuid.uuid4()}"
            requested = now - timedelta(minutes=30 * (j + 1))
            restoration_rows.append(
                Restoration(
                    site=site,
                    wix_id=str(uuid.uuid4()),
                    status=Restoration.COMPLETED,
                    backup_wix_id=source,
                    requested_at=requested,
                    started_at=requested,
                    finished_at=requested + timedelta(seconds=5),
                    restoration_collections=[{"dataCollectionId": "Products"}],
                    seen_at=now,
                )
            )
        pending = next((w for w, s in listed if s == Backup.PENDING), "")
        operation_rows.append(
            Operation(
                site=site,
                kind=Operation.Kind.CREATE_BACKUP,
                state=Operation.State.SUBMITTED,
                requested_by=owner,
                backup_wix_id=pending,
            )
        )
        if len(ready) > 1:
            operation_rows.append(
                Operation(
                    site=site,
                    kind=Operation.Kind.DELETE_BACKUP,
                    state=Operation.State.SUBMITTED,
                    requested_by=owner,
                    backup_wix_id=ready[-1],
                )
            )
        for k in range(3):
            operation_rows.append(
                Operation(
                    site=site,
                    kind=Operation.Kind.CREATE_BACKUP,
                    state=Operation.State.SUCCEEDED,
                    requested_by=owner,
                    backup_wix_id=ready[k % len(ready)] if ready else "",
                    created_at=now - timedelta(days=k + 1),
                    finished_at=now - timedelta(days=k + 1) + timedelta(seconds=5),
                )
            )
    Restoration.objects.bulk_create(restoration_rows, batch_size=BATCH)
    operations = Operation.objects.bulk_create(operation_rows, batch_size=BATCH)
    by_site: dict[Any, list[Operation]] = {}
    for op in operations:
        by_site.setdefault(op.site_id, []).append(op)
    activity_rows = []
    for site in made:
        ops = by_site.get(site.pk, [])
        for k in range(activities):
            op = ops[k % len(ops)] if ops else None
            activity_rows.append(
                Activity(
                    site=site,
                    actor=owner,
                    operation=op,
                    created_at=now - timedelta(minutes=k),
                    outcome=Activity.SUCCEEDED if k % 3 else Activity.REQUESTED,
                    message=f"Back up now ({k})",
                )
            )
    Activity.objects.bulk_create(activity_rows, batch_size=BATCH)
    analyze()
    return made


def analyze() -> None:
    """Give PostgreSQL the statistics of what was just written, as autovacuum gives a database
    that grew to this size: without them the planner guesses a few rows per site and sorts a
    site's 1,000 backups where an index hands it the newest 25."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def mark_synced(sites: list[Site]) -> None:
    """Synced just now again, so a page opened later still asks no refresh of Wix."""
    Site.objects.filter(pk__in=[s.pk for s in sites]).update(last_synced_at=timezone.now())
