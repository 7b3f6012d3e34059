"""All of a site's backups, newest first, a page at a time: its page shows the newest
(pages/rows.py BACKUPS_SHOWN) and links here. Each row offers what it offers on the site's page
(rules.backup_actions, with its snapshot)."""

from dataclasses import dataclass

from django.db.models import Subquery

from .. import rules
from ..models import Site
from .paging import Paged, page_of
from .rows import BackupView, backup_snapshot_views, backup_snapshots_queryset
from .site import BackupRow, backup_rows

PAGE_SIZE = 50


@dataclass
class BackupsPage(Paged):
    rows: list[BackupRow]

    @property
    def slots(self) -> int:
        return rules.slot_count()


def backups_page(*, site: Site, number: int = 1) -> BackupsPage:
    """One page of the site's backups (pages/paging.py), with what each row offers."""
    found, number, has_older = page_of(
        rules.with_pins(site.backups.all()).values_list(*BackupView._fields), number, PAGE_SIZE
    )
    shown = [BackupView(*values) for values in found]
    wix_ids = [b.wix_id for b in shown]
    pks = Subquery(site.backups.filter(wix_id__in=wix_ids).values("pk"))
    snapshots = backup_snapshot_views(list(backup_snapshots_queryset(site, pks, wix_ids)))
    slots = [
        BackupView(*values) for values in rules.holding_slots(site).values_list(*BackupView._fields)
    ]
    return BackupsPage(
        rows=backup_rows(shown, work=rules.in_flight(site), slots=slots, snapshots=snapshots),
        number=number,
        has_older=has_older,
    )
