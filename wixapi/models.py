"""Typed results of the Backups API and the parsing of Wix's JSON into them.

Parsing is strict about what the product relies on and lenient about the rest, so that Wix can add
to its answers without breaking us but cannot hand us something silently wrong:

- unknown extra fields are ignored;
- a missing or mistyped required field raises `WixProtocolError`, never `KeyError`/`TypeError`;
- nullable fields may also be left out (Wix's own documented examples omit `collections`, and the
  list example omits `total`);
- an enumeration value we do not know (Wix may add statuses) is kept as the raw string instead of
  failing the whole page. `BackupStatus` and friends are `StrEnum`s, so `status == "READY"` and
  `status == BackupStatus.READY` both work whichever form a value has.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

from .errors import WixProtocolError

T = TypeVar("T")
E = TypeVar("E", bound=StrEnum)


class BackupStatus(StrEnum):
    PENDING = "PENDING"
    READY = "READY"
    FAILED = "FAILED"
    DELETED = "DELETED"
    CANCELED = "CANCELED"


class BackupType(StrEnum):
    ON_DEMAND = "ON_DEMAND"
    AUTO = "AUTO"


class RestorationStatus(StrEnum):
    PENDING = "PENDING"
    # Wix is writing the content back (after PENDING, before COMPLETED or FAILED).
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


@dataclass(frozen=True, slots=True)
class BackupCollection:
    """One collection a backup holds."""

    id: str
    display_name: str | None = None


@dataclass(frozen=True, slots=True)
class Backup:
    id: str
    status: BackupStatus | str
    type: BackupType | str
    requested_date: datetime
    started_date: datetime | None = None
    finished_date: datetime | None = None
    deleted_date: datetime | None = None
    size_in_bytes: int | None = None
    collections: tuple[BackupCollection, ...] = ()


@dataclass(frozen=True, slots=True)
class RestoreCollection:
    """A collection to restore: onto itself, or into a destination collection when one is given.

    Used both to ask for a partial restore and to describe a restoration Wix reports.
    """

    data_collection_id: str
    destination_id: str | None = None
    destination_display_name: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.data_collection_id, str) or not self.data_collection_id:
            raise ValueError("data_collection_id must be a non-empty string")
        if self.destination_id is None and self.destination_display_name is not None:
            raise ValueError("destination_display_name needs a destination_id")
        if self.destination_id is not None and (
            not isinstance(self.destination_id, str) or not self.destination_id
        ):
            raise ValueError("destination_id must be a non-empty string or None")

    def to_wire(self) -> dict[str, Any]:
        """The `RestorationCollection` JSON of the contract."""
        wire: dict[str, Any] = {"dataCollectionId": self.data_collection_id}
        if self.destination_id is not None:
            destination: dict[str, Any] = {"dataCollectionId": self.destination_id}
            if self.destination_display_name is not None:
                destination["displayName"] = self.destination_display_name
            wire["restoreDestination"] = destination
        return wire


@dataclass(frozen=True, slots=True)
class Restoration:
    id: str
    status: RestorationStatus | str
    backup: Backup
    requested_date: datetime
    started_date: datetime | None = None
    finished_date: datetime | None = None
    restoration_collections: tuple[RestoreCollection, ...] = ()


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list call. `total` is None when Wix leaves it out."""

    items: tuple[T, ...]
    count: int
    offset: int
    total: int | None


# --- parsing ------------------------------------------------------------------------------------


def parse_backup(data: Any, where: str = "backup") -> Backup:
    obj = _object(data, where)
    return Backup(
        id=_str(obj, "id", where),
        status=_enum(obj, "status", BackupStatus, where),
        type=_enum(obj, "type", BackupType, where),
        requested_date=_required_datetime(obj, "requestedDate", where),
        started_date=_datetime(obj, "startedDate", where),
        finished_date=_datetime(obj, "finishedDate", where),
        deleted_date=_datetime(obj, "deletedDate", where),
        size_in_bytes=_size(obj, "sizeInBytes", where),
        collections=tuple(
            _backup_collection(item, f"{where}.collections[{i}]")
            for i, item in enumerate(_list(obj, "collections", where))
        ),
    )


def parse_restoration(data: Any, where: str = "restoration") -> Restoration:
    obj = _object(data, where)
    if "backup" not in obj or obj["backup"] is None:
        raise WixProtocolError(f"{where}.backup is missing")
    return Restoration(
        id=_str(obj, "id", where),
        status=_enum(obj, "status", RestorationStatus, where),
        backup=parse_backup(obj["backup"], f"{where}.backup"),
        requested_date=_required_datetime(obj, "requestedDate", where),
        started_date=_datetime(obj, "startedDate", where),
        finished_date=_datetime(obj, "finishedDate", where),
        restoration_collections=tuple(
            _restore_collection(item, f"{where}.restorationCollections[{i}]")
            for i, item in enumerate(_list(obj, "restorationCollections", where))
        ),
    )


def parse_single(body: Any, key: str, parse: Callable[[Any, str], T]) -> T:
    """`{"backup": {...}}` -> Backup, and the like."""
    obj = _object(body, "answer")
    if obj.get(key) is None:
        raise WixProtocolError(f"answer has no {key!r}")
    return parse(obj[key], key)


def parse_page(body: Any, key: str, parse: Callable[[Any, str], T], asked_offset: int) -> Page[T]:
    """A list answer: the items under `key` and the paging metadata in either spelling."""
    obj = _object(body, "answer")
    if not isinstance(obj.get(key), list):
        raise WixProtocolError(f"answer has no {key!r} list")
    items = tuple(parse(item, f"{key}[{i}]") for i, item in enumerate(obj[key]))
    # The schema says pagingMetadata; Wix's own list example says paging_metadata and drops total.
    meta = obj.get("pagingMetadata", obj.get("paging_metadata"))
    if meta is None:
        meta = {}
    meta = _object(meta, "pagingMetadata")
    count = _int(meta, "count", "pagingMetadata")
    offset = _int(meta, "offset", "pagingMetadata")
    return Page(
        items=items,
        count=len(items) if count is None else count,
        offset=asked_offset if offset is None else offset,
        total=_int(meta, "total", "pagingMetadata"),
    )


def _backup_collection(data: Any, where: str) -> BackupCollection:
    obj = _object(data, where)
    return BackupCollection(
        id=_str(obj, "id", where), display_name=_opt_str(obj, "displayName", where)
    )


def _restore_collection(data: Any, where: str) -> RestoreCollection:
    obj = _object(data, where)
    collection_id = _str(obj, "dataCollectionId", where)
    destination = obj.get("restoreDestination")
    if destination is None:
        return RestoreCollection(collection_id)
    dest = _object(destination, f"{where}.restoreDestination")
    return RestoreCollection(
        collection_id,
        destination_id=_str(dest, "dataCollectionId", f"{where}.restoreDestination"),
        destination_display_name=_opt_str(dest, "displayName", f"{where}.restoreDestination"),
    )


def _object(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise WixProtocolError(f"{where} is not a JSON object")
    return value


def _str(obj: Mapping[str, Any], key: str, where: str) -> str:
    value = obj.get(key)
    if value is None:
        raise WixProtocolError(f"{where}.{key} is missing")
    if not isinstance(value, str) or not value:
        raise WixProtocolError(f"{where}.{key} is not a non-empty string")
    return value


def _opt_str(obj: Mapping[str, Any], key: str, where: str) -> str | None:
    value = obj.get(key)
    if value is not None and not isinstance(value, str):
        raise WixProtocolError(f"{where}.{key} is not a string")
    return value


def _int(obj: Mapping[str, Any], key: str, where: str) -> int | None:
    value = obj.get(key)
    if value is None:
        return None
    # bool is an int in Python; JSON true is not a count.
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise WixProtocolError(f"{where}.{key} is not a non-negative integer")
    return value


def _list(obj: Mapping[str, Any], key: str, where: str) -> list[Any]:
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise WixProtocolError(f"{where}.{key} is not a list")
    return value


def _enum(obj: Mapping[str, Any], key: str, enum: type[E], where: str) -> E | str:
    value = _str(obj, key, where)
    try:
        return enum(value)
    except ValueError:
        return value


# int64 on the wire is a JSON string (proto3 mapping); digits only, so "1_000", " 12" or "-1" fail.
_DIGITS = re.compile(r"[0-9]{1,20}")


def _size(obj: Mapping[str, Any], key: str, where: str) -> int | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, str) and _DIGITS.fullmatch(value):
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise WixProtocolError(f"{where}.{key} is not a size in bytes")


def _required_datetime(obj: Mapping[str, Any], key: str, where: str) -> datetime:
    value = _datetime(obj, key, where)
    if value is None:
        raise WixProtocolError(f"{where}.{key} is missing")
    return value


def _datetime(obj: Mapping[str, Any], key: str, where: str) -> datetime | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 40:
        raise WixProtocolError(f"{where}.{key} is not a timestamp")
    try:
        # Python 3.11 reads the trailing Z and both the 3- and 6-digit fractions Wix sends.
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise WixProtocolError(f"{where}.{key} is not a timestamp") from None
    if parsed.tzinfo is None:
        # The contract says UTC; a timestamp without an offset can only mean that.
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
