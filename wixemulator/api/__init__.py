"""Wix's APIs over HTTP, served below /sandbox/, split as Wix's SDK packages are: `backups`
(Backups API), `items` (Data Items), `collections` (Data Collections), `oauth` (app tokens), on
the shared `pipeline` (auth, faults, rate limit, request log) and `params` (reading requests)."""

from .backups import backup, backups, partial_restore, restorations, restore
from .oauth import not_found, oauth_token
from .pipeline import (
    GARBAGE_KINDS,
    authenticate,
    draw_fault,
    drop_connection,
    error_response,
    wix_endpoint,
)

__all__ = [
    "GARBAGE_KINDS",
    "authenticate",
    "backup",
    "backups",
    "draw_fault",
    "drop_connection",
    "error_response",
    "not_found",
    "oauth_token",
    "partial_restore",
    "restorations",
    "restore",
    "wix_endpoint",
]
