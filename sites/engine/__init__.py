"""The operations engine: every state change of an operation and every call to Wix about one.

Read it in the order of a click: `requests` records what was asked, `dispatch` hands it to a
worker, `submit` sends it to Wix, `sweep` and `refresh` poll Wix until it ends, `mirror` writes
Wix's answers, `states` holds every transition (compare-and-swap), `words` says it all to owners.
The names below are the engine's public face; views, tasks, commands and tests use them.
"""

from .mirror import mirror_backups, mirror_restorations
from .refresh import poll_delay, site_refresh, site_refresh_if_stale, sites_due_for_sync
from .requests import OperationRefused, operation_request
from .states import site_touch
from .submit import operation_submit
from .sweep import SweepResult, refresh_chunks, sweep
from .words import owner_message

__all__ = [
    "OperationRefused",
    "SweepResult",
    "mirror_backups",
    "mirror_restorations",
    "operation_request",
    "operation_submit",
    "owner_message",
    "poll_delay",
    "refresh_chunks",
    "site_refresh",
    "site_refresh_if_stale",
    "site_touch",
    "sites_due_for_sync",
    "sweep",
]
