"""A site's whole activity log, newest first, a page at a time, optionally of one kind."""

from dataclasses import dataclass

from django.db.models import F

from ..models import Activity, Site
from .paging import Paged, page_of
from .rows import ActivityView

PAGE_SIZE = 50


class UnknownKind(ValueError):
    """A filter the log does not have; the message is for the person who asked."""


@dataclass
class ActivityPage(Paged):
    kind: str
    kinds: list[tuple[str, str]]
    rows: list[ActivityView]


def activity_page(*, site: Site, kind: str = "", number: int = 1) -> ActivityPage:
    """One page of the log, in one query (pages/paging.py)."""
    if kind and kind not in dict(Activity.KINDS):
        raise UnknownKind(f"The activity log has no kind “{kind}”; choose one from the list.")
    entries = site.activities.all()
    if kind:
        entries = entries.filter(kind=kind)
    # The actor's name only, as on the site's page: no user row is read.
    values = entries.annotate(actor_name=F("actor__username")).values_list(*ActivityView._fields)
    rows, number, has_older = page_of(values, number, PAGE_SIZE)
    return ActivityPage(
        kind=kind,
        kinds=Activity.KINDS,
        rows=[ActivityView(*row) for row in rows],
        number=number,
        has_older=has_older,
    )
