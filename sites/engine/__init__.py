"""The operations engine: every state change of an operation and every call to Wix about one.

Read it in the order of a click: `requests` records what was asked, `dispatch` hands it to a
worker, `submit` sends it to Wix, `sweep` and `refresh` poll Wix until it ends, `mirror` writes
Wix's answers, `states` holds every transition (compare-and-swap), `words` says it all to owners.
Alerts: `incidents` (opened once, resolved once, from `states.finish`, the refresh and the beat's
`alert_checks`), `outbox` (each alert written with what raised it, sent once per channel) and
`channels` (e-mail and signed webhooks). Snapshots run beside them on a queue of their own:
`snapshot_requests` (take, verify, pin, delete, settings), `snapshot_run` (taking and
verifying), `snapshot_prune` (retention and garbage), with their holds in `leases`, and
`preview` (what a restore from a snapshot would change). Restores from snapshots too:
`restore_requests` (restore, undo), `restore_run` (the bulk writes); `restore_safety` is the
safety snapshot every restore waits for; `restore_reading` what a Wix restore changed.
Schedules (`schedules`) ask for backups and snapshots on a beat tick, through `requests`;
`rotation` deletes the oldest unpinned backup before a new one would make Wix evict a pinned
one (or the backup a restore reads from).
The names below are the engine's public face; views, tasks, commands and tests use them.
"""

from .alert_checks import incidents_check, site_expected_age_set
from .channels import (
    ChannelRefused,
    channel_add_email,
    channel_add_webhook,
    channel_remove,
    signature,
)
from .errors import OperationRefused
from .incidents import incident_open, incident_resolve
from .item_history import ItemHistory, ItemVersion, item_history
from .mirror import mirror_backups, mirror_restorations
from .outbox import alert_test, deliveries_due, delivery_run
from .preview import ItemDifference, preview_item_difference, preview_request
from .refresh import poll_delay, site_refresh, site_refresh_if_stale, sites_due_for_sync
from .requests import operation_request
from .restore_reading import restore_readings_due
from .restore_requests import restore_undo_request, snapshot_restore_request
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
    "ChannelRefused",
    "ItemDifference",
    "ItemHistory",
    "ItemVersion",
    "OperationRefused",
    "PruneResult",
    "SweepResult",
    "TickResult",
    "alert_test",
    "backup_pin",
    "channel_add_email",
    "channel_add_webhook",
    "channel_remove",
    "deliveries_due",
    "delivery_run",
    "incident_open",
    "incident_resolve",
    "incidents_check",
    "item_history",
    "mirror_backups",
    "mirror_restorations",
    "operation_request",
    "operation_submit",
    "owner_message",
    "poll_delay",
    "preview_item_difference",
    "preview_request",
    "refresh_chunks",
    "restore_readings_due",
    "restore_undo_request",
    "schedule_set",
    "schedules_replan",
    "schedules_run_due",
    "signature",
    "site_expected_age_set",
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
    "snapshot_restore_request",
    "snapshot_settings_set",
    "snapshot_verify_request",
    "snapshots_prune",
    "sweep",
]
