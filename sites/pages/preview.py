"""A restore preview's pages: the counts per collection (live while the worker reads and
compares), one count's list of items a page at a time, and what the preview start page offers.

Every page costs a fixed handful of queries whatever the number of changes: the counts are
rows of their own (`PreviewCollection`), and a list page is one slice of an index
(`preview_change_list`: a range of positions), its length known from the counts.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple
from uuid import UUID

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import F, OuterRef, QuerySet, Subquery
from django.http import Http404

from .. import access, rules
from ..batch import fetch_prepared
from ..models import Preview, PreviewChange, PreviewCollection, Snapshot
from .live import Live

KIND_WORDS = {
    "restore": ("would bring back", "deleted since"),
    "revert": ("would revert", "changed since"),
    "remove": ("would remove", "added since"),
}


@dataclass(frozen=True)
class PreviewPage:
    preview: Preview
    rows: list[PreviewCollection]
    live: Live

    @property
    def phase(self) -> str:
        """ "reading" the live data, "comparing", "complete" or "failed"."""
        p = self.preview
        if p.state != Preview.State.RUNNING:
            return p.state
        reading = p.live
        if reading is not None and reading.state == Snapshot.State.RUNNING:
            return "reading"
        return "comparing"

    @property
    def reading_progress(self) -> str:
        """While the live data is read: "Products: 12,000 of 40,000 items"."""
        s = self.preview.live
        if s is None or not s.progress_collection:
            return "Starting…"
        total = f" of {s.progress_total:,}" if s.progress_total is not None else ""
        return f"{s.progress_collection}: {s.progress_items:,}{total} items"

    @property
    def comparing_progress(self) -> str:
        p = self.preview
        return f"{p.collections_done} of {len(p.collections)} collections compared"

    @property
    def read_at(self) -> datetime | None:
        """When the live reading ended: what "the live data as of" means."""
        s = self.preview.live
        return s.finished_at if s is not None else None

    @property
    def drifted(self) -> list[PreviewCollection]:
        return [r for r in self.rows if r.fields_added or r.fields_removed or r.fields_retyped]

    @property
    def deleted_since(self) -> list[PreviewCollection]:
        return [r for r in self.rows if not r.in_current]


def preview_page(preview: Preview) -> PreviewPage:
    """The preview's page (one query for the counts, the preview read by `access`)."""
    rows = list(preview.counts.all())
    version = str(preview.site.version)
    return PreviewPage(preview, rows, Live(version, "", not preview.is_finished, []))


class ListedChange(NamedTuple):
    """An item of a preview's list: the change's id (its page's address) and the item's."""

    pk: int
    item_id: str


def _preview_with_count(
    owner: AbstractBaseUser, preview_id: UUID, site_id: UUID, collection_id: str, kind: str
) -> QuerySet:
    """The preview with its site, source and the count of one collection and kind (None when
    it has none), carrying the owner's time zone."""
    count = PreviewCollection.objects.filter(
        preview=OuterRef("pk"), collection_id=collection_id
    ).values(kind)[:1]
    return (
        access.visible_previews(owner)
        .filter(pk=preview_id, site_id=site_id)
        .select_related("site", "source")
        .annotate(total=Subquery(count), owner_time_zone=F("site__owner__wbm_profile__time_zone"))
        .order_by()[:1]
    )


@dataclass(frozen=True)
class ItemsPage:
    preview: Preview
    collection_id: str
    kind: str
    changes: list[ListedChange]
    number: int
    pages: int
    total: int

    @property
    def words(self) -> tuple[str, str]:
        return KIND_WORDS[self.kind]

    @property
    def first_shown(self) -> int:
        return (self.number - 1) * rules.PREVIEW_PAGE_SIZE + 1 if self.total else 0

    @property
    def last_shown(self) -> int:
        return (self.number - 1) * rules.PREVIEW_PAGE_SIZE + len(self.changes)


def items_page(
    *,
    owner: AbstractBaseUser,
    site_id: Any,
    preview_id: Any,
    collection_id: str,
    kind: str,
    number: Any,
) -> ItemsPage:
    """One page of the items of one count, in two queries: the preview with its site, source
    and the count (404 for another owner's preview, or a collection or kind it has no count
    of), then the page's slice of the index. A page number out of range shows the nearest page.
    The preview carries the owner's time zone (`owner_time_zone`), as `access.site_to_view`."""
    if kind not in KIND_WORDS or not collection_id:
        raise Http404
    preview_id, site_id = access.as_uuid(preview_id), access.as_uuid(site_id)
    if owner.pk is None or preview_id is None or site_id is None:
        raise Http404
    # Both reads are compiled once and prepared on the server (sites/batch.py): the list is
    # the page that grows, paged through by the owner.
    _, (found,) = fetch_prepared(
        ("preview-items", kind),
        [owner.pk, preview_id, site_id, collection_id],
        build=lambda: (),
        build_models=lambda: [_preview_with_count(owner, preview_id, site_id, collection_id, kind)],
    )
    if not found or found[0].total is None:
        raise Http404
    preview = found[0]
    total = preview.total
    pages = max(1, -(-total // rules.PREVIEW_PAGE_SIZE))
    try:
        page = min(max(int(number), 1), pages)
    except (TypeError, ValueError):
        page = 1
    start = (page - 1) * rules.PREVIEW_PAGE_SIZE
    end = start + rules.PREVIEW_PAGE_SIZE
    (rows,), _ = fetch_prepared(
        "preview-items-slice",
        [preview.pk, collection_id, kind, start, end],
        lambda: [
            PreviewChange.objects.filter(
                preview=preview.pk,
                collection_id=collection_id,
                kind=kind,
                position__gte=start,
                position__lt=end,
            )
            .order_by("position")
            .values_list("id", "item_id")
        ],
    )
    changes = [ListedChange(*row) for row in rows]
    return ItemsPage(preview, collection_id, kind, changes, page, pages, total)


def preview_version(*, owner: AbstractBaseUser, site_id: Any, preview_id: Any) -> str | None:
    """The version a preview's page would show now, in one query (None: not the owner's)."""
    rows = list(
        Preview.objects.filter(pk=preview_id, site_id=site_id, site__owner_id=owner.pk)
        .values_list("site__version", flat=True)
        .order_by()[:1]
    )
    return str(rows[0]) if rows else None
