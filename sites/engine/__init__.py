"""The operations engine: every state change of an operation and every call to Wix about one.

Read it in the order of a click: `requests` records what was asked, `dispatch` hands it to a
worker, `submit` sends it to Wix, `sweep` and `refresh` poll Wix until it ends, `mirror` writes
Wix's answers, `states` holds every transition (compare-and-swap), `words` says it all to owners.
Schedules (`schedules`) ask for backups and snapshots on a beat tick, through `requests`.
Snapshots run beside them on a queue of their own: `snapshot_requests` (take, verify, pin, delete,
settings), `snapshot_run` (taking and verifying), `snapshot_prune` (retention and garbage).
The names below are the engine's public face; views, tasks, commands and tests use them.
"""

from .errors import OperationRefused
from .mirror import mirror_backups, mirror_restorations
from .refresh import poll_delay, site_refresh, site_refresh_if_stale, sites_due_for_sync
from .requests import operation_request
from .rotation import backup_pin
from .schedules import TickResult, schedule_set, schedules_replan, schedules_run_due
from .snapshot_prune import PruneResult, sites_with_snapshots, snapshots_prune
from .snapshot_requests import (
    snapshot_delete,
    snapshot_pin,
    snapshot_request,
    snapshot_settings_set,
    snapshot_verify_request,
)
from .snapshot_run import snapshot_operation_run
from .snapshot_store import site_store, snapshot_csv, snapshot_download
from .states import site_touch
from .submit import operation_submit
from .sweep import SweepResult, refresh_chunks, sweep
from .words import owner_message

__all__ = [
    "OperationRefused",
    "PruneResult",
    "SweepResult",
    "TickResult",
    "backup_pin",
    "mirror_backups",
    "mirror_restorations",
    "operation_request",
    "operation_submit",
    "owner_message",
    "poll_delay",
    "refresh_chunks",
    "schedule_set",
    "schedules_replan",
    "schedules_run_due",
    "site_refresh",
    "site_refresh_if_stale",
    "site_store",
    "site_touch",
    "sites_due_for_sync",
    "sites_with_snapshots",
    "snapshot_csv",
    "snapshot_delete",
    "snapshot_download",
    "snapshot_operation_run",
    "snapshot_pin",
    "snapshot_request",
    "snapshot_settings_set",
    "snapshot_verify_request",
    "snapshots_prune",
    "sweep",
]
