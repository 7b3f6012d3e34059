"""All of a site's backups, newest first, a page at a time: its page shows the newest
(pages/rows.py BACKUPS_SHOWN) and links here. Each row offers what it offers on the site's page
(rules.backup_actions, with its snapshot)."""

from dataclasses import dataclass

from django.db.models import Subquery

from .. import rules
from ..models import Site
from .rows import BackupView, backup_snapshot_views, backup_snapshots_queryset
from .site import BackupRow, backup_rows

PAGE_SIZE = 50


@dataclass
class BackupsPage:
    rows: list[BackupRow]
    number: int
    has_older: bool

    @property
    def has_newer(self) -> bool:
        return self.number > 1

    @property
    def slots(self) -> int:
        return rules.slot_count()


def backups_page(*, site: Site, number: int = 1) -> BackupsPage:
    """One page of the site's backups: a row more than shown says whether older ones exist (no
    count over all of them)."""
    number = max(number, 1)
    start = (number - 1) * PAGE_SIZE
    found = rules.with_pins(site.backups.all()).values_list(*BackupView._fields)[
        start : start + PAGE_SIZE + 1
    ]
    backups = [BackupView(*values) for values in found]
    shown = backups[:PAGE_SIZE]
    wix_ids = [b.wix_id for b in shown]
    pks = Subquery(site.backups.filter(wix_id__in=wix_ids).values("pk"))
    snapshots = backup_snapshot_views(list(backup_snapshots_queryset(site, pks, wix_ids)))
    slots = [
        BackupView(*values) for values in rules.holding_slots(site).values_list(*BackupView._fields)
    ]
    return BackupsPage(
        rows=backup_rows(shown, work=rules.in_flight(site), slots=slots, snapshots=snapshots),
        number=number,
        has_older=len(backups) > PAGE_SIZE,
    )
