"""A snapshot as a download, streamed with constant memory whatever its size: bytes chunks for
Django's StreamingHttpResponse, made while the manifest is read once (stream-zip writes the zip
as it goes, with no seeking and no member held whole).

The zip holds:

- `snapshot.json`: the manifest's header (when, what each collection holds, what is missing);
- `schemas.json`: `{collection id: the collection's schema}`;
- `collections/<id>.jsonl`: one line per item, the item's stored canonical JSON byte for byte
  (Wix's values, keys sorted: the form a restore writes back), in the manifest's order.

A collection id is percent-encoded in file names (`Stores/Products` → `Stores%2FProducts`).

Each collection's CSV is a download of its own (`export_csv`), not a member of the zip: the
zip is the exact copy and is written without parsing an item (each line is the stored bytes),
whereas a CSV row needs the item parsed and every cell formatted, which costs more than reading
the item (bench/README.md, "sixth session").

CSV columns cannot be the union of the fields seen without reading the collection twice, so
they are the schema's fields in the schema's order (`_id` first when the schema lacks it), then
`_other`: the JSON of any keys the schema does not list (empty when none), so nothing is lost.
Cells: text as it is, numbers and booleans as JSON, `{"$date": …}` as its date, anything else
as JSON, null as empty. A text starting with `=`, `+`, `-`, `@`, tab or carriage return gets a
leading `'` so a spreadsheet never runs it as a formula (the JSONL keeps the exact value).

A damaged or missing object stops the stream with its error: a download is never a quietly
incomplete copy (`verify_snapshot` names the damaged items beforehand).
"""

from __future__ import annotations

import csv
import io
import json
import math
import stat
import zlib
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import IO, Any
from urllib.parse import quote

from stream_zip import ZIP_64, stream_zip

from .manifest import CollectionRecord, Manifest, collection_entries, read_manifest
from .objects import ObjectStore, canonical_json
from .packs import PackReader

CHUNK = 1 << 16
# Deflate level 3 instead of stream-zip's 9 or zlib's default 6: zlib's fast strategy (levels
# 1-3, no lazy matching) deflates the JSONL about twice as fast as 6 for a zip about 13% larger
# (100,436 items: 7.4 MB instead of 6.5 MB), so a download keeps pace with reading the items.
ZIP_LEVEL = 3
_MODE = stat.S_IFREG | 0o644
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def member_name(collection_id: str, extension: str) -> str:
    return f"collections/{quote(collection_id, safe='')}.{extension}"


def export_zip(store: ObjectStore, snapshot_id: str) -> Iterator[bytes]:
    """The snapshot's zip, as chunks (see the module's docstring for what it holds). A snapshot
    without a manifest raises ObjectNotFound here, before the first chunk."""
    manifest = read_manifest(store, snapshot_id)
    members = _members(store, manifest)
    return stream_zip(
        members,
        chunk_size=CHUNK,
        get_compressobj=lambda: zlib.compressobj(level=ZIP_LEVEL, wbits=-zlib.MAX_WBITS),
    )


def export_csv(store: ObjectStore, snapshot_id: str, collection_id: str) -> Iterator[bytes]:
    """One collection as CSV on its own, as chunks (the manifest is read up to its end). A
    snapshot or collection that does not exist raises here, before the first chunk."""
    manifest = read_manifest(store, snapshot_id)
    record = next((c for c in manifest.collections if c.id == collection_id), None)
    if record is None:
        raise KeyError(f"snapshot {snapshot_id} has no collection {collection_id}")
    columns = csv_columns(store.get_json(record.schema))
    return _csv_chunks(store, manifest.snapshot_id, record, columns)


def _csv_chunks(
    store: ObjectStore, snapshot_id: str, record: CollectionRecord, columns: list[str]
) -> Iterator[bytes]:
    reader = PackReader(store.backend)
    buffer = io.StringIO()
    writer = _csv_writer(buffer, columns)
    row = _row_maker(columns)
    for entry in collection_entries(store, snapshot_id, record):
        writer.writerow(row(json.loads(reader.item(entry))))
        if buffer.tell() >= CHUNK:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def csv_columns(schema: dict[str, Any]) -> list[str]:
    keys = [f["key"] for f in schema.get("fields", [])]
    return (keys if "_id" in keys else ["_id", *keys]) + ["_other"]


def csv_row(data: dict[str, Any], columns: list[str]) -> list[str]:
    return _row_maker(columns)(data)


def _row_maker(columns: list[str]) -> Callable[[dict[str, Any]], list[str]]:
    """`csv_row` for one collection's columns, with what does not change per item made once."""
    fields = columns[:-1]
    known = frozenset(fields)  # an item key "_other" that the schema lacks goes in `_other` too

    def row(data: dict[str, Any]) -> list[str]:
        cells = [_cell(data.get(key)) for key in fields]
        if data.keys() - known:
            other = {k: v for k, v in data.items() if k not in known}
            cells.append(canonical_json(other).decode("utf-8"))
        else:
            cells.append("")
        return cells

    return row


def _cell(value: Any) -> str:
    # Called for every field of every item: the common kinds first, by exact type.
    kind = type(value)
    if kind is str:
        return "'" + value if value.startswith(_FORMULA) else value
    if value is None:
        return ""
    if kind is bool:
        return "true" if value else "false"
    if kind is int or (kind is float and math.isfinite(value)):
        return repr(value)  # what JSON writes for these
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, dict) and set(value) == {"$date"} and isinstance(value["$date"], str):
        value = value["$date"]
    if not isinstance(value, str):
        return canonical_json(value).decode("utf-8")
    return "'" + value if value.startswith(_FORMULA) else value


def _csv_writer(out: IO[str], columns: list[str]) -> Any:
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    return writer


def _members(
    store: ObjectStore, manifest: Manifest
) -> Iterator[tuple[str, datetime, int, Any, Iterable[bytes]]]:
    when = manifest.finished_at
    header = {
        "snapshot_id": manifest.snapshot_id,
        "started_at": manifest.started_at.isoformat(),
        "finished_at": manifest.finished_at.isoformat(),
        "items": manifest.items,
        "collections": [
            {
                "id": c.id,
                "status": c.status,
                "items": c.items,
                "total": c.total,
                "notes": c.notes,
                "reason": c.reason,
            }
            for c in manifest.collections
        ],
    }
    yield "snapshot.json", when, _MODE, ZIP_64, [json.dumps(header, indent=2).encode()]
    yield "schemas.json", when, _MODE, ZIP_64, _schemas(store, manifest.collections)
    reader = PackReader(store.backend)
    for record in manifest.collections:
        jsonl = _jsonl(store, reader, manifest.snapshot_id, record)
        yield member_name(record.id, "jsonl"), when, _MODE, ZIP_64, jsonl


def _schemas(store: ObjectStore, collections: tuple[CollectionRecord, ...]) -> Iterator[bytes]:
    yield b"{"
    for number, record in enumerate(collections):
        schema = store.get_canonical(record.schema)
        yield (b"," if number else b"") + canonical_json(record.id) + b":" + schema
    yield b"}"


def _jsonl(
    store: ObjectStore, reader: PackReader, snapshot_id: str, record: CollectionRecord
) -> Iterator[bytes]:
    # Items are stored as canonical JSON (no newline inside), so each line is the stored bytes.
    out = bytearray()
    for entry in collection_entries(store, snapshot_id, record):
        out += reader.item(entry)
        out += b"\n"
        if len(out) >= CHUNK:
            yield bytes(out)
            out.clear()
    yield bytes(out)
