"""The Wix Backups API client (v2): every backup call the product makes to Wix goes through here.

It speaks the contract in docs/wix-backups-api.md and nothing else, so it works unchanged against
https://www.wixapis.com and against the emulator at `<server>/sandbox`. Timeouts, bounded reads,
the error family and GET-only retries are the shared transport's (transport.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from .errors import WixProtocolError
from .models import (
    Backup,
    BackupStatus,
    BackupType,
    Page,
    Restoration,
    RestorationStatus,
    RestoreCollection,
    parse_backup,
    parse_page,
    parse_restoration,
    parse_single,
)
from .transport import USER_AGENT, BaseClient

__all__ = ["USER_AGENT", "WixBackupsClient"]

BACKUPS_PATH = "/wix-data/v2/backups"
RESTORATIONS_PATH = "/wix-data/v2/backups/restorations"

# Wix ids are GUIDs. Anything outside letters, digits, '-' and '_' could change the path ('/',
# '?', '#', '..'), so such an id is refused before it reaches the wire.
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}")


class WixBackupsClient(BaseClient):
    """A typed client of Wix's Backups API (v2) for one site (API key) or app instance (OAuth).

    Constructed as `BaseClient` is (base URL, auth, timeouts, retries); not thread-safe.
    """

    # --- the API --------------------------------------------------------------------------------

    def create_backup(self) -> Backup:
        """Ask for an on-demand backup. It finishes in the background: list to see it READY.

        A fourth on-demand backup makes Wix delete the oldest one at once.
        """
        # The SDK sends an empty object; Wix reads nothing from it.
        return self._call(
            "POST",
            BACKUPS_PATH,
            json_body={},
            parse=lambda b: parse_single(b, "backup", parse_backup),
        )

    def list_backups(
        self,
        *,
        status: Iterable[BackupStatus | str] | None = None,
        type: Iterable[BackupType | str] | None = None,  # Wix's own parameter name
        limit: int | None = None,
        offset: int | None = None,
    ) -> Page[Backup]:
        """One page of the site's backups, newest first."""
        return self._call(
            "GET",
            BACKUPS_PATH,
            params=_filters(status=status, type=type) + _paging(limit, offset),
            parse=lambda b: parse_page(b, "backups", parse_backup, offset or 0),
        )

    def iter_backups(
        self,
        *,
        status: Iterable[BackupStatus | str] | None = None,
        type: Iterable[BackupType | str] | None = None,  # Wix's own parameter name
        page_size: int = 100,
    ) -> Iterator[Backup]:
        """Every matching backup, across as many pages as it takes."""
        status, type = _listed(status), _listed(type)
        return self._iter_pages(
            lambda limit, offset: self.list_backups(
                status=status, type=type, limit=limit, offset=offset
            ),
            page_size,
            lambda backup: backup.id,
        )

    def restore_backup(self, backup_id: str) -> Restoration:
        """Restore every collection of a READY backup onto itself, replacing current content."""
        backup_id = _checked_id(backup_id)
        # The SDK repeats the id in the body; the contract keeps that.
        return self._call(
            "POST",
            f"{BACKUPS_PATH}/{backup_id}/restore",
            json_body={"backupId": backup_id},
            parse=_parse_restoration_answer,
        )

    def restore_partial_backup(
        self, backup_id: str, collections: Sequence[RestoreCollection]
    ) -> Restoration:
        """Restore only the given collections of a READY backup (1 to 1000 of them)."""
        backup_id = _checked_id(backup_id)
        if not 1 <= len(collections) <= 1000:
            raise ValueError("restore_partial_backup needs 1 to 1000 collections")
        if not all(isinstance(c, RestoreCollection) for c in collections):
            raise TypeError("collections must be RestoreCollection objects")
        return self._call(
            "POST",
            f"{BACKUPS_PATH}/{backup_id}/partial-restore",
            json_body={
                "backupId": backup_id,
                "restorationCollections": [c.to_wire() for c in collections],
            },
            parse=_parse_restoration_answer,
        )

    def list_restorations(
        self,
        *,
        status: Iterable[RestorationStatus | str] | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> Page[Restoration]:
        """One page of the site's restorations, newest first."""
        return self._call(
            "GET",
            RESTORATIONS_PATH,
            params=_filters(status=status) + _paging(limit, offset),
            parse=lambda b: parse_page(b, "restorations", parse_restoration, offset or 0),
        )

    def iter_restorations(
        self,
        *,
        status: Iterable[RestorationStatus | str] | None = None,
        page_size: int = 100,
    ) -> Iterator[Restoration]:
        """Every matching restoration, across as many pages as it takes."""
        status = _listed(status)
        return self._iter_pages(
            lambda limit, offset: self.list_restorations(status=status, limit=limit, offset=offset),
            page_size,
            lambda restoration: restoration.id,
        )

    def delete_backup(self, backup_id: str) -> None:
        """Ask Wix to delete a backup. It happens in the background: the backup turns DELETED
        (or leaves the list)."""
        backup_id = _checked_id(backup_id)
        # The SDK also puts the id in the query; the contract says Wix accepts and ignores it.
        self._call(
            "DELETE",
            f"{BACKUPS_PATH}/{backup_id}",
            params=[("backupId", backup_id)],
            parse=_parse_empty_answer,
        )


def _parse_restoration_answer(body: Any) -> Restoration:
    return parse_single(body, "restoration", parse_restoration)


def _parse_empty_answer(body: Any) -> None:
    # Wix answers a delete with {}; anything but an object means we are not talking to Wix.
    if not isinstance(body, dict):
        raise WixProtocolError("answer is not a JSON object")


def _checked_id(backup_id: str) -> str:
    # "restorations" fits the pattern but names the restorations list, not a backup.
    if (
        not isinstance(backup_id, str)
        or not _ID.fullmatch(backup_id)
        or backup_id == "restorations"
    ):
        raise ValueError(f"not a Wix backup id: {backup_id!r:.60}")
    return backup_id


def _listed(values: Iterable[str] | None) -> list[str] | None:
    if values is None:
        return None
    # A lone string is one value, not a sequence of one-letter filters.
    return [values] if isinstance(values, str) else [str(v) for v in values]


def _filters(**filters: Iterable[str] | None) -> list[tuple[str, str]]:
    """Arrays repeat their key (`status=READY&status=PENDING`), as Wix's SDK sends them."""
    params: list[tuple[str, str]] = []
    for key, values in filters.items():
        for value in _listed(values) or []:
            params.append((key, value))
    return params


def _paging(limit: int | None, offset: int | None) -> list[tuple[str, str]]:
    """Nested objects flatten with dots (`paging.limit=50`); what is None is left out."""
    params: list[tuple[str, str]] = []
    for key, value in (("paging.limit", limit), ("paging.offset", offset)):
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"{key} must be an int")
        params.append((key, str(value)))
    return params
