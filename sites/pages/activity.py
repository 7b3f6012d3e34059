"""A site's whole activity log, newest first, a page at a time, optionally of one kind."""

from dataclasses import dataclass

from django.db.models import F

from ..models import Activity, Site
from .rows import ActivityView

PAGE_SIZE = 50


class UnknownKind(ValueError):
    """A filter the log does not have; the message is for the person who asked."""


@dataclass
class ActivityPage:
    kind: str
    kinds: list[tuple[str, str]]
    rows: list[ActivityView]
    number: int
    has_older: bool

    @property
    def has_newer(self) -> bool:
        return self.number > 1


def activity_page(*, site: Site, kind: str = "", number: int = 1) -> ActivityPage:
    """One page of the log, in one query: a row more than shown says whether older ones exist
    (no count over the whole log)."""
    if kind and kind not in dict(Activity.KINDS):
        raise UnknownKind(f"The activity log has no kind “{kind}”; choose one from the list.")
    number = max(number, 1)
    entries = site.activities.all()
    if kind:
        entries = entries.filter(kind=kind)
    start = (number - 1) * PAGE_SIZE
    # The actor's name only, as on the site's page: no user row is read.
    values = entries.annotate(actor_name=F("actor__username")).values_list(*ActivityView._fields)[
        start : start + PAGE_SIZE + 1
    ]
    rows = [ActivityView(*row) for row in values]
    return ActivityPage(
        kind=kind,
        kinds=Activity.KINDS,
        rows=rows[:PAGE_SIZE],
        number=number,
        has_older=len(rows) > PAGE_SIZE,
    )
