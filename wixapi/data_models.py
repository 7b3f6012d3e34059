"""Typed results of the Data Items and Data Collections APIs, parsed as strictly as the Backups
ones (models.py): what the product relies on is checked, unknown extras are ignored, and an
item's `data` is kept exactly as Wix sent it, so a restore writes back what was read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import WixProtocolError
from .models import _int, _object, _opt_str, _str


@dataclass(frozen=True, slots=True)
class DataItem:
    id: str
    data_collection_id: str
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ItemPage:
    """One page of a query. `next_cursor` is None on the last cursor page (and with offsets)."""

    items: tuple[DataItem, ...]
    count: int
    offset: int | None
    total: int | None
    has_next: bool
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class ItemError:
    code: str
    description: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BulkItemResult:
    """The outcome of one item of a bulk call: a failure here is not an exception."""

    action: str
    id: str | None
    original_index: int
    success: bool
    error: ItemError | None = None
    item: DataItem | None = None


@dataclass(frozen=True, slots=True)
class BulkResult:
    results: tuple[BulkItemResult, ...]
    total_successes: int
    total_failures: int

    @property
    def failed(self) -> tuple[BulkItemResult, ...]:
        return tuple(r for r in self.results if not r.success)


@dataclass(frozen=True, slots=True)
class CollectionField:
    key: str
    type: str
    display_name: str | None = None
    system_field: bool = False
    required: bool = False


@dataclass(frozen=True, slots=True)
class DataCollection:
    id: str
    display_name: str | None
    collection_type: str
    max_page_size: int | None
    fields: tuple[CollectionField, ...]
    permissions: dict[str, Any]
    data_operations: frozenset[str]
    owner_app_id: str | None = None
    # The collection's JSON exactly as Wix sent it (fields' extras such as
    # `referencedCollectionId` included): what a snapshot keeps as the schema.
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def writable(self) -> bool:
        """Whether the Data Items API accepts writes here (a Wix app's collection may not)."""
        return not self.data_operations or {"INSERT", "UPDATE", "REMOVE"} <= self.data_operations


def parse_item(value: Any, where: str = "dataItem") -> DataItem:
    obj = _object(value, where)
    data = obj.get("data")
    if not isinstance(data, dict):
        raise WixProtocolError(f"{where}.data is not a JSON object")
    return DataItem(_str(obj, "id", where), _str(obj, "dataCollectionId", where), data)


def parse_item_page(body: Any) -> ItemPage:
    obj = _object(body, "answer")
    if not isinstance(obj.get("dataItems"), list):
        raise WixProtocolError("answer has no 'dataItems' list")
    items = tuple(parse_item(v, f"dataItems[{i}]") for i, v in enumerate(obj["dataItems"]))
    meta = _object(obj.get("pagingMetadata") or {}, "pagingMetadata")
    count = _int(meta, "count", "pagingMetadata")
    if count is not None and count != len(items):
        # A page that says it holds more (or fewer) than it does is a short read waiting to hide.
        raise WixProtocolError(f"page says it holds {count} items but holds {len(items)}")
    cursors = _object(meta.get("cursors") or {}, "pagingMetadata.cursors")
    next_cursor = _opt_str(cursors, "next", "pagingMetadata.cursors") or None
    has_next = meta.get("hasNext")
    if has_next is not None and not isinstance(has_next, bool):
        raise WixProtocolError("pagingMetadata.hasNext is not a boolean")
    return ItemPage(
        items=items,
        count=len(items),
        offset=_int(meta, "offset", "pagingMetadata"),
        total=_int(meta, "total", "pagingMetadata"),
        has_next=bool(has_next) if has_next is not None else next_cursor is not None,
        next_cursor=next_cursor,
    )


def parse_bulk(body: Any, asked: int) -> BulkResult:
    obj = _object(body, "answer")
    if not isinstance(obj.get("results"), list):
        raise WixProtocolError("answer has no 'results' list")
    results = []
    for i, raw in enumerate(obj["results"]):
        where = f"results[{i}]"
        entry = _object(raw, where)
        meta = _object(entry.get("itemMetadata"), f"{where}.itemMetadata")
        success = meta.get("success")
        if not isinstance(success, bool):
            raise WixProtocolError(f"{where}.itemMetadata.success is not a boolean")
        error = None
        if not success:
            err = _object(meta.get("error") or {}, f"{where}.itemMetadata.error")
            error = ItemError(
                code=_opt_str(err, "code", where) or "",
                description=_opt_str(err, "description", where) or "",
                data=err.get("data") if isinstance(err.get("data"), dict) else {},
            )
        index = _int(meta, "originalIndex", f"{where}.itemMetadata")
        item = entry.get("dataItem")
        results.append(
            BulkItemResult(
                action=_opt_str(entry, "action", where) or "",
                id=_opt_str(meta, "id", f"{where}.itemMetadata"),
                original_index=i if index is None else index,
                success=success,
                error=error,
                item=parse_item(item, f"{where}.dataItem") if item is not None else None,
            )
        )
    if len(results) != asked:
        raise WixProtocolError(f"bulk answer has {len(results)} results for {asked} items")
    failures = sum(1 for r in results if not r.success)
    return BulkResult(tuple(results), len(results) - failures, failures)


def parse_collection(value: Any, where: str = "collection") -> DataCollection:
    obj = _object(value, where)
    fields = []
    for i, raw in enumerate(obj.get("fields") or []):
        f = _object(raw, f"{where}.fields[{i}]")
        fields.append(
            CollectionField(
                key=_str(f, "key", f"{where}.fields[{i}]"),
                type=_opt_str(f, "type", f"{where}.fields[{i}]") or "ANY",
                display_name=_opt_str(f, "displayName", f"{where}.fields[{i}]"),
                system_field=f.get("systemField") is True,
                required=f.get("required") is True,
            )
        )
    capabilities = obj.get("capabilities") if isinstance(obj.get("capabilities"), dict) else {}
    operations = capabilities.get("dataOperations") or []
    return DataCollection(
        id=_str(obj, "id", where),
        display_name=_opt_str(obj, "displayName", where),
        collection_type=_opt_str(obj, "collectionType", where) or "NATIVE",
        max_page_size=_int(obj, "maxPageSize", where),
        fields=tuple(fields),
        permissions=obj.get("permissions") if isinstance(obj.get("permissions"), dict) else {},
        data_operations=frozenset(op for op in operations if isinstance(op, str)),
        owner_app_id=_opt_str(obj, "ownerAppId", where),
        raw=obj,
    )
