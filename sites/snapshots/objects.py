"""Content-addressed objects, as restic and borg keep them: a value's canonical JSON is hashed
(SHA-256) and stored once, compressed, under a key made of its hash. Two snapshots of the same
item share one object; reading one checks its hash, so damage is found, never passed on.

Compression is Zstandard (the `zstandard` bindings) at level 3: against zlib's default it
compresses several times faster at an equal or better ratio, which matters because a snapshot
compresses every item it reads, and the same library streams the manifests.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

import zstandard

from .backends import Backend
from .errors import CorruptObject

LEVEL = 3
# A frame that claims more than this once decompressed is damaged (Wix's items are at most
# 500 KB; schemas are far smaller): refusing it spares a damaged header from costing gigabytes.
MAX_OBJECT_BYTES = 64 << 20
_DIGEST = re.compile(r"[0-9a-f]{64}")


def canonical_json(value: Any) -> bytes:
    """The one byte form of a JSON value that is hashed and stored: keys sorted, no whitespace,
    UTF-8. A string holding a lone surrogate (which UTF-8 cannot encode; Python's JSON parser
    lets one through) is written with `\\u` escapes instead, still one fixed form per value.
    NaN and infinities are kept as Python's JSON writes them rather than failing the item."""
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
            "utf-8"
        )
    except UnicodeEncodeError:
        return json.dumps(value, sort_keys=True, separators=(",", ":")).encode("ascii")


def digest_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def object_key(digest: str) -> str:
    """`objects/ab/abcdef…`: 256 folders, so no folder holds millions of files."""
    if not _DIGEST.fullmatch(digest):
        raise ValueError(f"not a SHA-256 digest: {digest!r:.80}")
    return f"objects/{digest[:2]}/{digest}"


def compress(data: bytes) -> bytes:
    # A fresh compressor is cheap and, unlike a shared one, safe from any thread.
    return zstandard.ZstdCompressor(level=LEVEL).compress(data)


def decompress(data: bytes, key: str) -> bytes:
    """A whole frame written by `compress`; CorruptObject naming `key` when it is not one."""
    try:
        size = zstandard.frame_content_size(data)
        if not 0 <= size <= MAX_OBJECT_BYTES:
            raise CorruptObject(f"{key} is damaged: its header gives no usable size.", key=key)
        return zstandard.ZstdDecompressor().decompress(data)
    except zstandard.ZstdError as error:
        raise CorruptObject(
            f"{key} is damaged: it does not decompress ({error}).", key=key
        ) from error


@dataclass(frozen=True, slots=True)
class Put:
    digest: str
    # Bytes of the canonical JSON, and of what the store holds for it.
    size: int
    stored: int
    # False when the object was there already and nothing was written.
    new: bool


class ObjectStore:
    """The objects of one backend, and what this instance has written (for the dedup figures).

    One instance per thread: it keeps a compressor, which Zstandard does not share between
    threads, since making one per item costs more than compressing the item."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.written_objects = 0
        self.written_bytes = 0
        self._compressor = zstandard.ZstdCompressor(level=LEVEL)

    def compress(self, data: bytes) -> bytes:
        """`data` as one Zstandard frame, with this store's compressor (an item for a pack)."""
        return self._compressor.compress(data)

    def put_json(self, value: Any) -> Put:
        return self.put_canonical(canonical_json(value))

    def put_canonical(self, data: bytes) -> Put:
        digest = digest_of(data)
        key = object_key(digest)
        if self.backend.exists(key):
            return Put(digest, len(data), 0, new=False)
        packed = self._compressor.compress(data)
        self.backend.put(key, packed)
        self.written_objects += 1
        self.written_bytes += len(packed)
        return Put(digest, len(data), len(packed), new=True)

    def has(self, digest: str) -> bool:
        return self.backend.exists(object_key(digest))

    def get_canonical(self, digest: str) -> bytes:
        """The object's canonical JSON, its hash checked: CorruptObject on any mismatch,
        ObjectNotFound when it is gone."""
        key = object_key(digest)
        data = decompress(self.backend.get(key), key)
        if digest_of(data) != digest:
            raise CorruptObject(f"{key} is damaged: its content does not match its hash.", key=key)
        return data

    def get_json(self, digest: str) -> Any:
        data = self.get_canonical(digest)
        try:
            return json.loads(data)
        except ValueError as error:  # hashed but not JSON: only our own bug could write that
            key = object_key(digest)
            raise CorruptObject(f"{key} is damaged: it is not JSON.", key=key) from error
