"""Wix's Data Items API as the emulated Wix does it: queries with offset and cursor paging,
counts, reads, and single and bulk writes with a result per item (docs/wix-data-api.md)."""

import base64
import binascii
import json
import uuid
from datetime import datetime, timedelta
from typing import Any

from ..models import EmuCollection, EmuCursor, EmuCursorChunk, EmuItem, EmuSite
from . import query as q
from .content import SYSTEM_FIELDS, item_json, site_owner, to_millis
from .errors import EmuApiError, invalid

MAX_PAGE = 1000
DEFAULT_PAGE = 50
MAX_BULK = 1000
MAX_ITEM_BYTES = 500 * 1024
CURSOR_LIFETIME = timedelta(minutes=30)


def find_collection(site: EmuSite, collection_id: Any) -> EmuCollection:
    if not isinstance(collection_id, str) or not collection_id:
        raise invalid("dataCollectionId", "is required", "REQUIRED_FIELD")
    collection = site.collections.filter(collection_id=collection_id).first()
    if collection is None:
        raise EmuApiError(404, f"Collection {collection_id[:256]} does not exist", code="WDE0025")
    return collection


def _writable(collection: EmuCollection, action: str) -> None:
    if not collection.writable:
        raise EmuApiError(
            403,
            f"The current user does not have permissions to {action} on the "
            f"{collection.collection_id} collection",
            code="WDE0027",
        )


def _limit(raw: Any, collection: EmuCollection, field: str) -> int:
    if raw is None:
        return DEFAULT_PAGE
    if not isinstance(raw, int) or isinstance(raw, bool) or raw < 0:
        raise invalid(field, "must be a non-negative integer", "FORMAT")
    maximum = min(MAX_PAGE, collection.max_page_size)
    if raw > maximum:
        raise invalid(field, f"must be at most {maximum}", "MAX")
    # Protobuf leaves an unset int as 0, so limit 0 means "the default", as on Wix.
    return raw or min(DEFAULT_PAGE, maximum)


def _projection(raw: Any) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(f, str) for f in raw):
        raise invalid("query.fields", "must be a list of field keys", "FORMAT")
    return raw


# --- queries ------------------------------------------------------------------------------------


def _ordered_ids(collection: EmuCollection, filter_: dict[str, Any], sorts: list) -> list[str]:
    items = collection.items.all()
    if q.needs_python(filter_, sorts):
        owner = site_owner(collection.site_id)
        rows = [
            (item.item_id, item_json(item, collection.collection_id, owner)["data"])
            for item in items.iterator(chunk_size=2000)
        ]
        return q.python_order([r for r in rows if q.matches(filter_, r[1])], sorts)
    return list(q.sql_queryset(items, filter_, sorts).values_list("item_id", flat=True))


def _fetch(collection: EmuCollection, ids: list[str]) -> list[EmuItem]:
    found = {i.item_id: i for i in collection.items.filter(item_id__in=ids)}
    # An item removed since the cursor's first page is left out of its page.
    return [found[i] for i in ids if i in found]


def _page_json(
    collection: EmuCollection, items: list[EmuItem], fields: list[str]
) -> list[dict[str, Any]]:
    owner = site_owner(collection.site_id)
    return [item_json(i, collection.collection_id, owner, fields) for i in items]


def query_items(site: EmuSite, now: datetime, body: dict[str, Any]) -> dict[str, Any]:
    query = body.get("query") or {}
    if not isinstance(query, dict):
        raise invalid("query", "must be an object", "FORMAT")
    paging, cursor_paging = query.get("paging"), query.get("cursorPaging")
    if paging is not None and cursor_paging is not None:
        raise invalid("query", "takes paging or cursorPaging, not both", "FORMAT")
    if cursor_paging is not None:
        if not isinstance(cursor_paging, dict):
            raise invalid("query.cursorPaging", "must be an object", "FORMAT")
        if cursor_paging.get("cursor"):
            return _next_page(site, now, body, cursor_paging)
    collection = find_collection(site, body.get("dataCollectionId"))
    filter_ = q.check_filter(query.get("filter"))
    sorts = q.check_sort(query.get("sort"))
    fields = _projection(query.get("fields"))
    want_total = body.get("returnTotalCount") is True
    if cursor_paging is not None:
        limit = _limit(cursor_paging.get("limit"), collection, "query.cursorPaging.limit")
        ids = _ordered_ids(collection, filter_, sorts)
        return _cursor_answer(site, now, collection, ids, 0, limit, fields, want_total, None)
    paging = paging or {}
    if not isinstance(paging, dict):
        raise invalid("query.paging", "must be an object", "FORMAT")
    limit = _limit(paging.get("limit"), collection, "query.paging.limit")
    offset = paging.get("offset") or 0
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise invalid("query.paging.offset", "must be a non-negative integer", "FORMAT")
    if q.needs_python(filter_, sorts):
        ids = _ordered_ids(collection, filter_, sorts)
        total, items = len(ids), _fetch(collection, ids[offset : offset + limit])
    else:
        matching = q.sql_queryset(collection.items.all(), filter_, sorts)
        items = list(matching[offset : offset + limit])
        total = matching.count() if want_total or len(items) == limit else offset + len(items)
    meta: dict[str, Any] = {
        "count": len(items),
        "offset": offset,
        "tooManyToCount": False,
        "hasNext": offset + len(items) < total,
        "cursors": {"next": None, "prev": None},
    }
    if want_total:
        meta["total"] = total
    return {"dataItems": _page_json(collection, items, fields), "pagingMetadata": meta}


def _token(cursor_id: uuid.UUID, position: int) -> str:
    raw = json.dumps({"c": cursor_id.hex, "p": position}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _untoken(token: Any) -> tuple[uuid.UUID, int]:
    try:
        raw = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        return uuid.UUID(hex=raw["c"]), int(raw["p"])
    except (TypeError, ValueError, KeyError, binascii.Error, AttributeError) as error:
        raise invalid("query.cursorPaging.cursor", "is not a cursor", "FORMAT") from error


def _cursor_answer(
    site: EmuSite,
    now: datetime,
    collection: EmuCollection,
    ids: list[str],
    position: int,
    limit: int,
    fields: list[str],
    want_total: bool,
    cursor: EmuCursor | None,
) -> dict[str, Any]:
    page_ids = (
        ids[position : position + limit] if cursor is None else _cursor_ids(cursor, position, limit)
    )
    total = len(ids) if cursor is None else cursor.total
    after = position + len(page_ids)
    next_token = None
    if after < total:
        if cursor is None:
            cursor = EmuCursor.objects.create(
                site=site,
                collection_id=collection.collection_id,
                fields=fields,
                total=total,
                expires_at=now + CURSOR_LIFETIME,
            )
            size = EmuCursorChunk.CHUNK
            EmuCursorChunk.objects.bulk_create(
                [
                    EmuCursorChunk(cursor=cursor, index=k, ids=ids[k * size : (k + 1) * size])
                    for k in range((total + size - 1) // size)
                ],
                batch_size=100,
            )
            # Expired cursors of the site are forgotten here, so the table never grows unbounded.
            EmuCursor.objects.filter(site=site, expires_at__lt=now).delete()
        next_token = _token(cursor.id, after)
    meta: dict[str, Any] = {
        "count": len(page_ids) if cursor is None else None,
        "tooManyToCount": False,
        "hasNext": next_token is not None,
        "cursors": {
            "next": next_token,
            "prev": _token(cursor.id, max(0, position - limit)) if cursor and position else None,
        },
    }
    items = _fetch(collection, page_ids)
    meta["count"] = len(items)
    if want_total:
        meta["total"] = total
    return {"dataItems": _page_json(collection, items, fields), "pagingMetadata": meta}


def _cursor_ids(cursor: EmuCursor, position: int, limit: int) -> list[str]:
    size = EmuCursorChunk.CHUNK
    first, last = position // size, (position + limit - 1) // size
    chunks = cursor.chunks.filter(index__gte=first, index__lte=last).order_by("index")
    ids = [i for chunk in chunks for i in chunk.ids]
    start = position - first * size
    return ids[start : start + limit]


def _next_page(
    site: EmuSite, now: datetime, body: dict[str, Any], cursor_paging: dict[str, Any]
) -> dict[str, Any]:
    query = body.get("query") or {}
    if query.get("filter") or query.get("sort"):
        raise invalid("query", "with a cursor carries no filter or sort", "FORMAT")
    cursor_id, position = _untoken(cursor_paging["cursor"])
    cursor = EmuCursor.objects.filter(pk=cursor_id, site=site, expires_at__gt=now).first()
    if cursor is None or not 0 <= position <= cursor.total:
        raise invalid("query.cursorPaging.cursor", "is unknown or expired", "FORMAT")
    collection = find_collection(site, cursor.collection_id)
    given = body.get("dataCollectionId")
    if given is not None and given != cursor.collection_id:
        raise invalid("query.cursorPaging.cursor", "belongs to another collection", "FORMAT")
    limit = _limit(cursor_paging.get("limit"), collection, "query.cursorPaging.limit")
    fields = _projection(query.get("fields")) or cursor.fields
    return _cursor_answer(site, now, collection, [], position, limit, fields, False, cursor)


def count_items(site: EmuSite, body: dict[str, Any]) -> dict[str, Any]:
    collection = find_collection(site, body.get("dataCollectionId"))
    filter_ = q.check_filter(body.get("filter"), "filter")
    if q.needs_python(filter_, []):
        return {"totalCount": len(_ordered_ids(collection, filter_, []))}
    return {"totalCount": collection.items.filter(q.sql_filter(filter_)).count()}


def get_item(site: EmuSite, collection_id: Any, item_id: str) -> dict[str, Any]:
    collection = find_collection(site, collection_id)
    item = collection.items.filter(item_id=item_id).first()
    if item is None:
        raise EmuApiError(404, f"Item {item_id[:256]} not found", code="WDE0073")
    return {"dataItem": _page_json(collection, [item], [])[0]}


# --- writes -------------------------------------------------------------------------------------


def _incoming(raw: Any, field: str, need_id: bool) -> tuple[str, dict[str, Any], str | None]:
    """(id, own fields, owner) of a DataItem in a write request; 400 when it is malformed."""
    if not isinstance(raw, dict):
        raise invalid(field, "must be a data item object", "FORMAT")
    data = raw.get("data", {})
    if not isinstance(data, dict):
        raise invalid(f"{field}.data", "must be an object", "FORMAT")
    item_id = raw.get("id") or data.get("_id")
    if item_id is None and not need_id:
        item_id = str(uuid.uuid4())
    if not isinstance(item_id, str) or not item_id or len(item_id) > 256:
        raise invalid(f"{field}.id", "must be a non-empty string", "FORMAT")
    owner = data.get("_owner") if isinstance(data.get("_owner"), str) else None
    own = {k: v for k, v in data.items() if k not in SYSTEM_FIELDS}
    size = len(json.dumps(own, separators=(",", ":"), ensure_ascii=False).encode())
    if size > MAX_ITEM_BYTES:
        raise EmuApiError(
            413, f"Item {item_id[:256]} is {size} bytes; an item is at most 500 KB", code="WDE0009"
        )
    return item_id, own, owner


def write_one(
    site: EmuSite, now: datetime, collection: EmuCollection, raw: Any, field: str, mode: str
) -> tuple[str, EmuItem]:
    """Insert, update or save one item; answers the action Wix reports and the item as written."""
    item_id, own, owner = _incoming(raw, field, need_id=mode == "update")
    existing = collection.items.filter(item_id=item_id).first()
    stamp = to_millis(now)
    if existing is not None and mode == "insert":
        raise EmuApiError(409, f"An item with id {item_id} already exists", code="WDE0074")
    if existing is None and mode == "update":
        raise EmuApiError(404, f"Item {item_id} not found", code="WDE0073")
    if existing is None:
        item = EmuItem.objects.create(
            collection=collection,
            item_id=item_id,
            data=own,
            created_at=stamp,
            updated_at=stamp,
            owner=owner or site_owner(site.pk),
        )
        return "INSERT", item
    # Save and update replace the whole item: a field left out is gone.
    existing.data = own
    existing.updated_at = stamp
    if owner:
        existing.owner = owner
    existing.save(update_fields=["data", "updated_at", "owner"])
    return "UPDATE", existing


def insert_item(site: EmuSite, now: datetime, body: dict[str, Any], mode: str) -> dict[str, Any]:
    collection = find_collection(site, body.get("dataCollectionId"))
    _writable(collection, mode)
    if "dataItem" not in body:
        raise invalid("dataItem", "is required", "REQUIRED_FIELD")
    _, item = write_one(site, now, collection, body["dataItem"], "dataItem", mode)
    return {"dataItem": _page_json(collection, [item], [])[0]}


def remove_item(site: EmuSite, collection_id: Any, item_id: Any) -> dict[str, Any]:
    collection = find_collection(site, collection_id)
    _writable(collection, "remove")
    if not isinstance(item_id, str) or not item_id:
        raise invalid("dataItemId", "is required", "REQUIRED_FIELD")
    item = collection.items.filter(item_id=item_id).first()
    if item is None:
        raise EmuApiError(404, f"Item {item_id[:256]} not found", code="WDE0073")
    answer = {"dataItem": _page_json(collection, [item], [])[0]}
    item.delete()
    return answer


def truncate(site: EmuSite, body: dict[str, Any]) -> dict[str, Any]:
    collection = find_collection(site, body.get("dataCollectionId"))
    _writable(collection, "remove")
    collection.items.all().delete()
    return {}


def bulk_write(site: EmuSite, now: datetime, body: dict[str, Any], mode: str) -> dict[str, Any]:
    """Bulk insert, save, update or remove: one bad item fails alone, the call answers 200."""
    collection = find_collection(site, body.get("dataCollectionId"))
    _writable(collection, "remove" if mode == "remove" else mode)
    key = "dataItemIds" if mode == "remove" else "dataItems"
    entries = body.get(key)
    if not isinstance(entries, list) or not entries:
        raise invalid(key, "must be a non-empty list", "REQUIRED_FIELD")
    if len(entries) > MAX_BULK:
        raise invalid(key, f"must hold at most {MAX_BULK} items", "MAX_SIZE")
    return_entity = body.get("returnEntity") is True
    results = []
    for index, entry in enumerate(entries):
        result: dict[str, Any] = {}
        try:
            if mode == "remove":
                removed = remove_item(site, collection.collection_id, entry)
                action, item_json_ = "DELETE", removed["dataItem"]
                item_id = item_json_["id"]
            else:
                action, item = write_one(site, now, collection, entry, f"{key}[{index}]", mode)
                item_id, item_json_ = item.item_id, _page_json(collection, [item], [])[0]
            result = {
                "action": action,
                "itemMetadata": {"id": item_id, "originalIndex": index, "success": True},
            }
            if return_entity:
                result["dataItem"] = item_json_
        except EmuApiError as error:
            failed_id = entry if isinstance(entry, str) else _guess_id(entry)
            result = {
                "action": {"insert": "INSERT", "remove": "DELETE"}.get(mode, "UPDATE"),
                "itemMetadata": {
                    "id": failed_id,
                    "originalIndex": index,
                    "success": False,
                    "error": error.item_error(),
                },
            }
        results.append(result)
    failures = sum(1 for r in results if not r["itemMetadata"]["success"])
    return {
        "results": results,
        "bulkActionMetadata": {
            "totalSuccesses": len(results) - failures,
            "totalFailures": failures,
            "undetailedFailures": 0,
        },
    }


def _guess_id(entry: Any) -> str | None:
    if not isinstance(entry, dict):
        return None
    data = entry.get("data") if isinstance(entry.get("data"), dict) else {}
    found = entry.get("id") or data.get("_id")
    return found if isinstance(found, str) else None
