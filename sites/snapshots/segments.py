"""Segments: the entries of one collection of a snapshot, stored as a content-addressed object
of their own (restic's trees, borg's item chunks), so that snapshots share them.

A manifest names, per collection, a list of segments: a base holding every entry, then deltas
holding only what changed after it (an entry per item added or changed, `{"id", "gone": true}`
per item removed). A second snapshot of unchanged data names the same segments as the first and
stores no entry at all; one after 1% of the items changed stores a delta of 1% of the entries.
How they are read as one list is `manifest.manifest_entries`; when a delta is taken instead of
a new base is `take.py`'s rule.

A segment is a Zstandard stream of JSON lines, named by the SHA-256 of the uncompressed lines.
It is written from a temporary file and read as a stream, so no segment is ever held whole;
its hash is checked as it is read, and a mismatch raises once the stream ends.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import zstandard

from .errors import CorruptObject
from .objects import LEVEL, ObjectStore, object_key


@dataclass(frozen=True, slots=True)
class SegmentRef:
    digest: str
    entries: int
    # Bytes this write added to the store (0 when the segment was there already).
    stored: int


def write_segment(store: ObjectStore, lines: Iterable[bytes]) -> SegmentRef:
    """Store the lines (each ending in a newline) as one segment."""
    hasher = hashlib.sha256()
    count = 0
    fd, temp = tempfile.mkstemp(prefix="wbm-segment-")
    try:
        with os.fdopen(fd, "wb") as out:
            with zstandard.ZstdCompressor(level=LEVEL).stream_writer(out, closefd=False) as z:
                for line in lines:
                    hasher.update(line)
                    z.write(line)
                    count += 1
            size = out.tell()
        digest = hasher.hexdigest()
        key = object_key(digest)
        if store.backend.exists(key):
            return SegmentRef(digest, count, 0)
        store.backend.put_file(key, Path(temp))
        store.written_objects += 1
        store.written_bytes += size
        return SegmentRef(digest, count, size)
    finally:
        os.unlink(temp)


def read_segment(store: ObjectStore, digest: str) -> Iterator[dict[str, Any]]:
    """The segment's lines as JSON, streamed. CorruptObject when it does not decompress, a line
    is not JSON, or (at its end) its content does not match its name; ObjectNotFound when gone."""
    key = object_key(digest)
    hasher = hashlib.sha256()
    with store.backend.open(key) as stream:
        try:
            reader = zstandard.ZstdDecompressor().stream_reader(stream, read_across_frames=True)
            for line in io.BufferedReader(reader, 1 << 16):
                hasher.update(line)
                try:
                    value = json.loads(line)
                except ValueError:
                    value = None
                if not isinstance(value, dict) or not isinstance(value.get("id"), str):
                    raise CorruptObject(f"{key} is damaged: a line does not read.", key=key)
                yield value
        except zstandard.ZstdError as error:
            raise CorruptObject(f"{key} is damaged: it does not decompress.", key=key) from error
    if hasher.hexdigest() != digest:
        raise CorruptObject(f"{key} is damaged: its content does not match its hash.", key=key)
