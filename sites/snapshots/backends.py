"""Where snapshot objects live: one small interface, a local folder and (s3.py) any S3-compatible
store. The rest of the package speaks only this interface, so both behave the same.

Keys are our own: `/`-separated segments of letters, digits, `.`, `_` and `-` (layout.py makes
them); anything else is refused, so a key can never climb out of the folder.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import tempfile
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from .errors import ObjectNotFound, StorageError

_SEGMENT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,199}")
# A partly written file, beside its final name until the rename; never listed as an object.
TEMP_PREFIX = ".tmp-"


def check_key(key: str) -> str:
    parts = key.split("/")
    if not key or not all(_SEGMENT.fullmatch(p) and ".." not in p for p in parts):
        raise ValueError(f"not a storage key: {key!r:.80}")
    return key


@dataclass(frozen=True, slots=True)
class StoredObject:
    key: str
    size: int
    # When the object was last written (UTC): the garbage collector's grace cutoff reads it.
    modified: datetime


class Backend(ABC):
    """A flat key → bytes store. Writes are all-or-nothing: a reader sees the whole object under
    its key or no object, never a part of one."""

    @property
    @abstractmethod
    def description(self) -> str:
        """Where this is, in words an owner understands (no secret): shown in every error."""

    @abstractmethod
    def put(self, key: str, data: bytes) -> None: ...

    @abstractmethod
    def put_file(self, key: str, path: Path) -> None:
        """Store the file's content under `key`, read as a stream (a manifest may be large)."""

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def get(self, key: str) -> bytes:
        """The object's bytes; ObjectNotFound when there is none."""

    @abstractmethod
    def open(self, key: str) -> AbstractContextManager[BinaryIO]:
        """A stream of the object's bytes (read in pieces, whatever its size)."""

    @abstractmethod
    def get_range(self, key: str, start: int, length: int) -> bytes:
        """Up to `length` bytes of the object from `start` (fewer at its end); ObjectNotFound
        when there is none. How an item is read out of a pack without reading the pack."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove the object; one that is already gone is no error."""

    @abstractmethod
    def list(self, prefix: str) -> Iterator[StoredObject]:
        """Every object whose key starts with `prefix`, in no promised order."""

    def sync(self) -> None:  # noqa: B027 - a no-op for stores whose writes are durable
        """Make every object put so far durable, before a manifest names them."""


class LocalBackend(Backend):
    """A folder on this machine (`var/snapshots` by default).

    A write goes to a temporary file beside its final name and is renamed into place, so a crash
    never leaves half an object under its real name. Objects and packs are not fsynced as they
    are written: `sync()` flushes the ones written since the last sync (and their folders) at
    once, before a checkpoint or the manifest names them, and those are fsynced with their
    folder as they are written.
    """

    def __init__(self, root: Path | str) -> None:
        # Nothing is created here: the folder appears with the first write.
        self.root = Path(root)
        # Written since the last `sync()`, not yet durable. Not `os.sync()`: that flushes every
        # file system of the machine (a database's files included) at each page of a snapshot.
        self._unsynced: set[Path] = set()
        self._unsynced_lock = threading.Lock()

    @property
    def description(self) -> str:
        return f"the snapshot folder {self.root}"

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*check_key(key).split("/"))

    def _failure(self, action: str, key: str, error: OSError) -> StorageError:
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            return StorageError(f"{self.description} is full: could not {action} {key}.")
        if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return StorageError(
                f"{self.description} is not writable by this process: could not {action} {key} "
                f"({error.strerror}). Check the folder's owner and permissions, or set "
                "WBM_SNAPSHOT_STORAGE to a folder it may write."
            )
        return StorageError(
            f"{self.description}: could not {action} {key} ({error.strerror or error})."
        )

    def _write(self, key: str, fill: Callable[[BinaryIO], object], durable: bool) -> None:
        path = self._path(key)
        temp = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=path.parent)
            with os.fdopen(fd, "wb") as out:
                fill(out)
                if durable:
                    out.flush()
                    os.fsync(out.fileno())
            os.replace(temp, path)
            temp = None
            if durable:
                _fsync_dir(path.parent)
            else:
                with self._unsynced_lock:
                    self._unsynced.add(path)
        except OSError as error:
            raise self._failure("write", key, error) from error
        finally:
            if temp is not None:
                with suppress(OSError):
                    os.unlink(temp)

    def put(self, key: str, data: bytes) -> None:
        # Checkpoints and manifests must survive a crash as soon as they are written; objects and
        # packs are flushed all at once by `sync()` before a checkpoint names them.
        durable = not key.startswith(("objects/", "packs/"))
        self._write(key, lambda out: out.write(data), durable=durable)

    def put_file(self, key: str, path: Path) -> None:
        def copy(out: BinaryIO) -> None:
            with open(path, "rb") as source:
                shutil.copyfileobj(source, out, 1 << 20)

        self._write(key, copy, durable=True)

    def exists(self, key: str) -> bool:
        try:
            # An empty file is never one of ours (even an empty object compresses to bytes): it
            # is what a power cut can leave of a write not yet flushed, so it counts as absent
            # and the next snapshot writes the object again.
            return self._path(key).stat().st_size > 0
        except FileNotFoundError:
            return False
        except OSError as error:
            raise self._failure("read", key, error) from error

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise ObjectNotFound(f"{key} is missing from {self.description}.", key=key) from None
        except OSError as error:
            raise self._failure("read", key, error) from error

    @contextmanager
    def open(self, key: str) -> Iterator[BinaryIO]:
        try:
            stream = open(self._path(key), "rb")  # noqa: SIM115 - closed below
        except FileNotFoundError:
            raise ObjectNotFound(f"{key} is missing from {self.description}.", key=key) from None
        except OSError as error:
            raise self._failure("read", key, error) from error
        with stream:
            yield stream

    def get_range(self, key: str, start: int, length: int) -> bytes:
        try:
            with open(self._path(key), "rb") as stream:
                stream.seek(start)
                return stream.read(length)
        except FileNotFoundError:
            raise ObjectNotFound(f"{key} is missing from {self.description}.", key=key) from None
        except OSError as error:
            raise self._failure("read", key, error) from error

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink(missing_ok=True)
        except OSError as error:
            raise self._failure("delete", key, error) from error

    def list(self, prefix: str) -> Iterator[StoredObject]:
        # Walk only the folder the prefix names, then filter by the rest of it.
        folder, _, _ = prefix.rpartition("/")
        start = self.root.joinpath(*check_key(folder).split("/")) if folder else self.root
        try:
            yield from self._walk(start, prefix)
        except OSError as error:
            raise self._failure("list", prefix or "/", error) from error

    def _walk(self, folder: Path, prefix: str) -> Iterator[StoredObject]:
        try:
            entries = list(os.scandir(folder))
        except FileNotFoundError:
            return
        for entry in sorted(entries, key=lambda e: e.name):
            if entry.name.startswith(TEMP_PREFIX):
                continue
            key = Path(entry.path).relative_to(self.root).as_posix()
            if entry.is_dir(follow_symlinks=False):
                if key.startswith(prefix) or prefix.startswith(key + "/"):
                    yield from self._walk(Path(entry.path), prefix)
            elif key.startswith(prefix):
                stat = entry.stat(follow_symlinks=False)
                modified = datetime.fromtimestamp(stat.st_mtime, UTC)
                yield StoredObject(key, stat.st_size, modified)

    def sync(self) -> None:
        with self._unsynced_lock:
            written, self._unsynced = self._unsynced, set()
        try:
            for path in sorted(written):
                fd = os.open(path, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
            for folder in sorted({path.parent for path in written}):
                _fsync_dir(folder)
        except OSError as error:
            with self._unsynced_lock:
                self._unsynced |= written  # still to be made durable
            raise self._failure("flush", str(error.filename or self.root), error) from error


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
