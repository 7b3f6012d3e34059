"""A long list shown a page at a time, newest first: a row more than shown says whether older
ones exist (no count over the whole list)."""

from dataclasses import dataclass
from typing import Any


@dataclass
class Paged:
    number: int
    has_older: bool

    @property
    def has_newer(self) -> bool:
        return self.number > 1


def page_of(rows: Any, number: int, size: int) -> tuple[list[Any], int, bool]:
    """Page `number` (1 at least) of the sliceable `rows` (one query for a queryset): the page's
    rows, its number, and whether older ones exist."""
    number = max(number, 1)
    start = (number - 1) * size
    found = list(rows[start : start + size + 1])
    return found[:size], number, len(found) > size
