"""Pack files, as restic and borg keep items: many compressed items in one stored file, each found
by (pack, offset, length) and checked by its own hash.

One file per item made a snapshot spend most of its time in the file system (a temporary file,
a rename and a directory entry per item: 100,000 of them for 100,000 items), and an S3 PUT per
item would cost more still. A pack holds the new items of one page read (up to `PACK_BYTES`),
so a snapshot writes one file per page. Each item is its own Zstandard frame, so one item is
read back alone with a ranged read, and damage to one item never hides the others.

A pack's key is the SHA-256 of its bytes (`packs/ab/ab12…`): writing one that exists writes
nothing, and `verify` can tell a pack rewritten under its name from one intact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .backends import Backend
from .errors import CorruptObject
from .objects import decompress, digest_of

# A pack is written once it holds this much (compressed): a page of small items makes one pack,
# a page of 500 KB items several, and a reader never needs more than this at once.
PACK_BYTES = 8 << 20
# What one ranged read fetches: the items of a pack are read in the order they were written
# (the order of the manifest), so one read serves the items that follow it too.
READ_WINDOW = 1 << 20


_NAME = re.compile(r"[0-9a-f]{64}")


def pack_key(name: str) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(f"not a pack name: {name!r:.80}")
    return f"packs/{name[:2]}/{name}"


@dataclass(slots=True)
class Slot:
    """Where an item added to a pack will be: its pack's name is known once the pack is written."""

    offset: int
    length: int
    pack: str = ""


class PackWriter:
    """Collects compressed items and writes them as packs. One instance per thread."""

    def __init__(self, backend: Backend, limit: int = PACK_BYTES) -> None:
        self.backend = backend
        self.limit = limit
        self._buffer = bytearray()
        self._slots: list[Slot] = []
        # What this writer stored: packs written and their bytes (the dedup figures).
        self.written_packs = 0
        self.written_bytes = 0

    def add(self, packed: bytes) -> Slot:
        """Add one compressed item; its slot gets the pack's name when the pack is written."""
        if self._buffer and len(self._buffer) + len(packed) > self.limit:
            self.flush()
        slot = Slot(len(self._buffer), len(packed))
        self._buffer += packed
        self._slots.append(slot)
        return slot

    def flush(self) -> None:
        """Write what was added as one pack (nothing when empty). Durable after `backend.sync()`."""
        if not self._buffer:
            return
        data = bytes(self._buffer)
        name = digest_of(data)
        key = pack_key(name)
        if not self.backend.exists(key):
            self.backend.put(key, data)
            self.written_packs += 1
            self.written_bytes += len(data)
        for slot in self._slots:
            slot.pack = name
        self._buffer.clear()
        self._slots = []


class PackReader:
    """Reads items out of packs with ranged reads, one window of a pack kept at a time."""

    def __init__(self, backend: Backend, window: int = READ_WINDOW) -> None:
        self.backend = backend
        self.window = window
        self._key = ""
        self._pack = ""
        self._start = 0
        self._data = b""

    def item(self, entry: Any) -> bytes:
        """The canonical JSON of a manifest `Entry`'s item (see `read`)."""
        return self.read(entry.pack, entry.offset, entry.length, entry.digest)

    def read(self, pack: str, offset: int, length: int, digest: str) -> bytes:
        """The item's canonical JSON, its hash checked: CorruptObject on any mismatch (naming
        the pack and offset), ObjectNotFound when the pack is gone."""
        # The window's pack is named (and its name checked) once, not once per item read.
        key = self._key if pack and pack == self._pack else pack_key(pack)
        where = f"{key} at {offset}"
        if offset < 0 or length <= 0:
            raise CorruptObject(f"{where} is damaged: the manifest gives no usable place.", key=key)
        end = offset + length
        if key != self._key or offset < self._start or end > self._start + len(self._data):
            self._data = self.backend.get_range(key, offset, max(length, self.window))
            self._key, self._pack, self._start = key, pack, offset
        frame = self._data[offset - self._start : end - self._start]
        if len(frame) != length:
            raise CorruptObject(f"{where} is damaged: the pack ends before the item.", key=key)
        data = decompress(frame, where)
        if digest_of(data) != digest:
            raise CorruptObject(
                f"{where} is damaged: its content does not match its hash.", key=key
            )
        return data
