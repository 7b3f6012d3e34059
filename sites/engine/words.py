"""What the engine says to site owners: Wix's failures and the operations, in plain words.

Never a secret, never a stack trace: these words end up on pages, in the activity log and in logs.
"""

from typing import Any

from wixapi import (
    WixAuthError,
    WixConflict,
    WixNotFound,
    WixPermissionError,
    WixProtocolError,
    WixRateLimited,
    WixServerError,
    WixUnavailable,
    WixValidationError,
)

from .. import crypto, rules
from ..models import Operation
from ..snapshots import StorageError
from ..wix_clients import BaseUrlNotAllowed


class InternalProblem(Exception):
    """A failure of ours (not Wix's) while handling an operation: retried like a transient one."""

    transient = True


def owner_message(error: Exception) -> str:
    """A Wix failure in words a site owner understands (never a secret, never a stack trace)."""
    if isinstance(error, WixAuthError):
        return (
            "Wix rejected the API key (it may have been deleted or mistyped). "
            "Replace the key in the site's settings."
        )
    if isinstance(error, WixPermissionError):
        return (
            "Wix refused access: the API key lacks the “Manage Data Backups” permission "
            "or does not belong to this site."
        )
    if isinstance(error, WixNotFound):
        return "Wix no longer has this backup."
    if isinstance(error, WixConflict):
        return {
            "BACKUP_NOT_READY": "Wix says the backup is not ready to be restored.",
            "RESTORATION_IN_PROGRESS": "Another restore of this site is still running on Wix.",
            "BACKUP_IN_USE": "Wix says the backup is in use (still being made or restored from).",
        }.get(error.code or "", "Wix refused the request in the site's current state.")
    if isinstance(error, WixValidationError):
        return "Wix refused the request as invalid."
    if isinstance(error, WixRateLimited):
        return "Wix asked us to slow down (too many requests); trying again shortly."
    if isinstance(error, WixServerError):
        return "Wix had a temporary problem; trying again shortly."
    if isinstance(error, WixUnavailable):
        return "Wix did not answer in time; trying again shortly."
    if isinstance(error, WixProtocolError):
        return "Wix sent an answer we could not read."
    if isinstance(error, BaseUrlNotAllowed):
        return "The site's Wix API address is not allowed by this installation's settings."
    if isinstance(error, crypto.SecretUnreadable):
        return "The stored API key can no longer be decrypted; replace the key."
    if isinstance(error, InternalProblem):
        return "Something went wrong on our side; trying again shortly."
    return "Something went wrong talking to Wix."


def is_credentials_problem(error: Exception) -> bool:
    return isinstance(
        error, WixAuthError | WixPermissionError | BaseUrlNotAllowed | crypto.SecretUnreadable
    )


def operation_words(
    kind: str,
    collections: list[dict[str, Any]],
    backup_collections: list[dict[str, Any]] | None = None,
) -> str:
    """What was asked, for the activity trail; the backup's time is kept beside it (`backup_at`).

    Collections by the names the backup gives them (`backup_collections`, rules)."""
    if kind == Operation.Kind.CREATE_BACKUP:
        return "Back up now"
    if kind == Operation.Kind.RESTORE:
        return "Restore all collections from the backup"
    if kind == Operation.Kind.RESTORE_PARTIAL:
        by_id = rules.collection_names_by_id(backup_collections)
        names = ", ".join(
            by_id.get(c["dataCollectionId"], c["dataCollectionId"]) for c in collections
        )
        return f"Restore {names} from the backup"
    if kind == Operation.Kind.RESTORE_SNAPSHOT:
        return restore_words(collections)
    if kind == Operation.Kind.SNAPSHOT:
        return "Take a snapshot"
    if kind == Operation.Kind.VERIFY_SNAPSHOT:
        return "Verify the snapshot"
    if kind == Operation.Kind.PREVIEW_RESTORE:
        return "Preview a restore from the snapshot"
    return "Delete the backup"


def restore_words(collections: list[dict[str, Any]], *, undo: bool = False) -> str:
    """A restore from a snapshot (or the Undo of a restore, which restores its safety snapshot),
    for the activity log; the snapshot's time is kept beside it (`backup_at`)."""
    names = ", ".join(c["dataCollectionId"] for c in collections)
    if undo:
        return f"Undo a restore: restore {names} from the safety snapshot"
    return f"Restore {names} from the snapshot"


_MODE_WORDS = {"whole": "Whole collections", "merge": "Merge", "items": "Chosen items"}
_COUNT_WORDS = (
    ("restored", "brought back"),
    ("reverted", "reverted"),
    ("removed", "removed"),
    ("failed", "not written"),
)


def restore_summary(mode: str, counts: dict[str, dict[str, int]]) -> str:
    """What a restore from a snapshot changed, collection by collection, for the activity log:
    "Merge: Products: 3 brought back, 2 reverted; Customers: nothing to change"."""
    parts = []
    for collection, count in counts.items():
        said = [f"{count[key]} {words}" for key, words in _COUNT_WORDS if count.get(key)]
        parts.append(f"{collection}: {', '.join(said) or 'nothing to change'}")
    if not parts:
        return ""
    return f"{_MODE_WORDS.get(mode, mode)}: " + "; ".join(parts)


# What Wix did on its own, for the activity trail (engine/mirror.py); each entry's backup time is
# kept beside it (`backup_at`), as for the operations.
AUTO_BACKUP_ARRIVED = "Wix made its weekly automatic backup"
EVICTED = "to make room for a new one: all on-demand slots were used"
DELETED_IN_WIX = "not from here (in Wix's own screens, or by another app)"


def wix_deleted_words(backup_type: str) -> str:
    kind = "automatic" if backup_type == "AUTO" else "on-demand"
    return f"Wix deleted the {kind} backup"


def snapshot_message(error: Exception) -> str:
    """A failure of a snapshot's work in words a site owner understands (never a secret)."""
    if isinstance(error, StorageError):
        return error.message  # composed for owners by the storage itself (snapshots/errors.py)
    if isinstance(error, WixPermissionError):
        return (
            "Wix refused to let us read the site's collections: the API key lacks the "
            "“Manage Data Items” permission or does not belong to this site."
        )
    if isinstance(error, WixNotFound):
        return "Wix says the site or one of its collections does not exist."
    return owner_message(error)
