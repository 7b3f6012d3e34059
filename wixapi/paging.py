"""Offset paging, as the Backups API's lists and the Data Collections list page: every item once,
however many pages it takes, and a clear error rather than an endless or silently short read."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

from .errors import WixProtocolError
from .models import Page

T = TypeVar("T")


def iter_offset_pages(
    fetch: Callable[[int, int], Page[T]],
    page_size: int,
    identity: Callable[[T], str],
    max_pages: int,
) -> Iterator[T]:
    """Every item `fetch(limit, offset)` pages through, each once (by `identity`)."""
    # Checked here, not in the generator, so a bad page_size fails at the call.
    if not 1 <= page_size <= 1000:
        raise ValueError("page_size must be between 1 and 1000")
    return _pages(fetch, page_size, identity, max_pages)


def _pages(
    fetch: Callable[[int, int], Page[T]],
    page_size: int,
    identity: Callable[[T], str],
    max_pages: int,
) -> Iterator[T]:
    seen: set[str] = set()
    offset = 0
    for _ in range(max_pages):
        page = fetch(page_size, offset)
        if len(page.items) > page_size:
            raise WixProtocolError(f"page holds {len(page.items)} items, asked for {page_size}")
        for item in page.items:
            # Lists are newest first, so an item created while we page pushes the others down
            # and one we already gave shows up again on the next page.
            if identity(item) not in seen:
                seen.add(identity(item))
                yield item
        offset += len(page.items)
        done = len(page.items) < page_size if page.total is None else offset >= page.total
        if done or not page.items:
            return
    raise WixProtocolError(f"listing did not end after {max_pages} pages")
