"""The Wix Data Items and Data Collections client (docs/wix-data-api.md).

A sibling of the Backups client on the shared transport (transport.py: timeouts, bounded reads,
the error family, GET-only retries with backoff on 429 `WDE0014` and 5xx). Queries and counts are
reads Wix takes as POSTs, so they are retried like GETs; writes never are, so a bulk write that
fails in transit raises and the caller decides. A whole collection is read with cursor paging one
page at a time, never holding more than one page.

Limits are checked before anything is sent when the client can know them: a bulk call of more than
1000 items (or none) is a ValueError, as a page size over 1000 is, because Wix would only refuse it
with a 400. An item over 500 KB is Wix's to judge (its size is Wix's JSON of the item): in a bulk
call it fails alone, reported in that item's result with `WDE0009`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from .data_models import (
    BulkResult,
    DataCollection,
    DataItem,
    ItemPage,
    parse_bulk,
    parse_collection,
    parse_item,
    parse_item_page,
)
from .errors import WixProtocolError
from .models import Page, parse_page, parse_single
from .transport import BaseClient

ITEMS_PATH = "/wix-data/v2/items"
BULK_PATH = "/wix-data/v2/bulk/items"
COLLECTIONS_PATH = "/wix-data/v2/collections"
MAX_PAGE = 1000
MAX_BULK = 1000
# Each item's `data` as read (with `_id` when it has one).
Items = Sequence[Mapping[str, Any]]


def _collection_id(value: str) -> str:
    if not isinstance(value, str) or not value or len(value) > 256:
        raise ValueError(f"not a Wix collection id: {value!r:.60}")
    return value


def _segment(value: str) -> str:
    # One path segment: "Stores/Products" must not become two.
    return quote(value, safe="")


class WixDataClient(BaseClient):
    """A typed client of Wix's Data Items and Data Collections APIs (v2) for one site."""

    # --- Data Items: reads ----------------------------------------------------------------------

    def query_items(
        self,
        collection_id: str,
        *,
        filter: Mapping[str, Any] | None = None,  # Wix's own name
        sort: Sequence[tuple[str, str]] = (),
        fields: Sequence[str] = (),
        limit: int = 50,
        offset: int | None = None,
        cursor: str | None = None,
        return_total_count: bool = False,
        consistent_read: bool = False,
    ) -> ItemPage:
        """One page: offset paging, or cursor paging when `cursor` is given (the cursor holds the
        filter and sort) or `offset` is None and `cursor` is "" (the first cursor page)."""
        if not 1 <= limit <= MAX_PAGE:
            raise ValueError("limit must be between 1 and 1000")
        query: dict[str, Any] = {}
        if cursor:
            query["cursorPaging"] = {"limit": limit, "cursor": cursor}
        else:
            if filter:
                query["filter"] = dict(filter)
            if sort:
                query["sort"] = [{"fieldName": f, "order": o} for f, o in sort]
            if cursor == "":
                query["cursorPaging"] = {"limit": limit}
            else:
                query["paging"] = {"limit": limit, "offset": offset or 0}
        if fields:
            query["fields"] = list(fields)
        body: dict[str, Any] = {
            "dataCollectionId": _collection_id(collection_id),
            "query": query,
            "consistentRead": consistent_read,
        }
        if return_total_count and not cursor:
            body["returnTotalCount"] = True
        return self._call(
            "POST", f"{ITEMS_PATH}/query", json_body=body, parse=parse_item_page, read_only=True
        )

    def iter_items(
        self,
        collection_id: str,
        *,
        filter: Mapping[str, Any] | None = None,  # Wix's own name
        sort: Sequence[tuple[str, str]] = (),
        page_size: int = MAX_PAGE,
        consistent_read: bool = False,
    ) -> Iterator[DataItem]:
        """Every matching item, by cursor paging; one page in memory at a time. A page that
        promises more but gives no cursor, or ends the read early, raises WixProtocolError."""
        if not 1 <= page_size <= MAX_PAGE:
            raise ValueError("page_size must be between 1 and 1000")
        return self._item_pages(collection_id, filter, sort, page_size, consistent_read)

    def _item_pages(
        self,
        collection_id: str,
        filter: Mapping[str, Any] | None,
        sort: Sequence[tuple[str, str]],
        page_size: int,
        consistent_read: bool,
    ) -> Iterator[DataItem]:
        cursor = ""
        for _ in range(self._max_pages * 1000):
            page = self.query_items(
                collection_id,
                filter=filter,
                sort=sort,
                limit=page_size,
                cursor=cursor,
                consistent_read=consistent_read,
            )
            if len(page.items) > page_size:
                raise WixProtocolError(f"page holds {len(page.items)} items, asked {page_size}")
            items, next_cursor, has_next = page.items, page.next_cursor, page.has_next
            del page
            yield from items
            # Let this page go before the next one is read: one page in memory, never two.
            del items
            if next_cursor is None:
                if has_next:
                    raise WixProtocolError("page says more follow but gives no cursor")
                return
            if next_cursor == cursor:
                raise WixProtocolError("the next cursor is the one just read")
            cursor = next_cursor
        raise WixProtocolError("reading the collection did not end")

    def count_items(
        self,
        collection_id: str,
        *,
        filter: Mapping[str, Any] | None = None,  # Wix's own name
        consistent_read: bool = False,
    ) -> int:
        body = {
            "dataCollectionId": _collection_id(collection_id),
            "filter": dict(filter or {}),
            "consistentRead": consistent_read,
        }
        return self._call(
            "POST", f"{ITEMS_PATH}/count", json_body=body, parse=_parse_count, read_only=True
        )

    def get_item(
        self, collection_id: str, item_id: str, *, consistent_read: bool = False
    ) -> DataItem:
        """One item; a missing one raises WixNotFound (WDE0073), a missing collection too
        (WDE0025): tell them apart by `error.code`."""
        params = [("dataCollectionId", _collection_id(collection_id))]
        if consistent_read:
            params.append(("consistentRead", "true"))
        return self._call(
            "GET",
            f"{ITEMS_PATH}/{_segment(item_id)}",
            params=params,
            parse=lambda b: parse_single(b, "dataItem", parse_item),
        )

    # --- Data Items: bulk writes (never retried) ------------------------------------------------

    def bulk_insert(
        self, collection_id: str, items: Sequence[Mapping[str, Any]], **kw: bool
    ) -> BulkResult:
        return self._bulk("insert", collection_id, items, **kw)

    def bulk_save(
        self, collection_id: str, items: Sequence[Mapping[str, Any]], **kw: bool
    ) -> BulkResult:
        """Insert or replace by `_id`: save replaces the whole item (a field left out is gone)."""
        return self._bulk("save", collection_id, items, **kw)

    def bulk_update(
        self, collection_id: str, items: Sequence[Mapping[str, Any]], **kw: bool
    ) -> BulkResult:
        """Replace existing items (each needs `_id`); a missing one fails alone with WDE0073."""
        return self._bulk("update", collection_id, items, **kw)

    def bulk_remove(
        self, collection_id: str, item_ids: Sequence[str], *, suppress_hooks: bool = True
    ) -> BulkResult:
        if not 1 <= len(item_ids) <= MAX_BULK:
            raise ValueError("a bulk call takes 1 to 1000 items")
        body = {
            "dataCollectionId": _collection_id(collection_id),
            "dataItemIds": list(item_ids),
            "suppressHooks": suppress_hooks,
        }
        return self._call(
            "POST",
            f"{BULK_PATH}/remove",
            json_body=body,
            parse=lambda b: parse_bulk(b, len(item_ids)),
        )

    def _bulk(
        self,
        action: str,
        collection_id: str,
        items: Sequence[Mapping[str, Any]],
        *,
        suppress_hooks: bool = True,
        return_entity: bool = False,
    ) -> BulkResult:
        # suppressHooks by default: a restore must not run the site's hooks once per item.
        if not 1 <= len(items) <= MAX_BULK:
            raise ValueError("a bulk call takes 1 to 1000 items")
        wire = []
        for data in items:
            entry: dict[str, Any] = {"data": dict(data)}
            if isinstance(data.get("_id"), str):
                entry["id"] = data["_id"]
            wire.append(entry)
        body = {
            "dataCollectionId": _collection_id(collection_id),
            "dataItems": wire,
            "suppressHooks": suppress_hooks,
            "returnEntity": return_entity,
        }
        return self._call(
            "POST",
            f"{BULK_PATH}/{action}",
            json_body=body,
            parse=lambda b: parse_bulk(b, len(wire)),
        )

    # --- Data Collections -----------------------------------------------------------------------

    def list_collections(self, *, limit: int = 50, offset: int = 0) -> Page[DataCollection]:
        params = [("paging.limit", str(limit)), ("paging.offset", str(offset))]
        return self._call(
            "GET",
            COLLECTIONS_PATH,
            params=params,
            parse=lambda b: parse_page(b, "collections", parse_collection, offset),
        )

    def iter_collections(self, *, page_size: int = 100) -> Iterator[DataCollection]:
        return self._iter_pages(
            lambda limit, offset: self.list_collections(limit=limit, offset=offset),
            page_size,
            lambda collection: collection.id,
        )

    def get_collection(self, collection_id: str) -> DataCollection:
        """The schema; a missing collection raises WixNotFound with code WDE0025."""
        return self._call(
            "GET",
            f"{COLLECTIONS_PATH}/{_segment(_collection_id(collection_id))}",
            parse=lambda b: parse_single(b, "collection", parse_collection),
        )


def _parse_count(body: Any) -> int:
    if not isinstance(body, dict):
        raise WixProtocolError("answer is not a JSON object")
    value = body.get("totalCount")
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise WixProtocolError("answer has no usable totalCount")
    return value
