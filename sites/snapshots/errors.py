"""The one family of errors the snapshot storage raises.

Every message is meant for the site owner (the page and the activity log show it as it is): it
says which store, which object and what to do, and never holds a secret (an S3 secret key, a
signature): messages are composed here from codes and names, never copied from a library.
"""

from __future__ import annotations


class StorageError(Exception):
    """The snapshot storage failed: full, unwritable, unreachable, credentials refused, a bucket
    missing, or an object damaged or gone. `transient` says whether trying again later can help
    (a store that could not be reached), as `wixapi.WixError` does."""

    transient: bool = False

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.transient = transient


class ObjectNotFound(StorageError):
    """A key the caller expected is not in the store."""

    def __init__(self, message: str, *, key: str) -> None:
        super().__init__(message)
        self.key = key


class CorruptObject(StorageError):
    """A stored object does not decode, or its content does not match the hash it is named by."""

    def __init__(self, message: str, *, key: str) -> None:
        super().__init__(message)
        self.key = key


class ManifestError(StorageError):
    """A manifest or a checkpoint that cannot be read as written: truncated, damaged or of an
    unknown format. Such a snapshot is never shown as usable."""
