"""The product's policy, each rule once: pages, the engine and the commands all ask here.

Nothing here writes or calls Wix. The rules decide from `InFlight` (what runs on a site) and the
mirror's rows; `in_flight` is the one read they need, so the request (under the site's lock), the
worker (just before it sends) and the pages (from the kept site state) decide alike.

The rules are split by subject (`backups`, `restores`, `attention`, `snapshots`); everything is
asked through this package (`rules.restore_refusal(...)`), so a rule's place inside it can move
without its callers knowing.
"""

from ..snapshots import RetentionRules  # the retention rules' type, as pages name it
from .attention import (
    CAUSE_OF_OPERATION,
    STATE_CAUSES,
    UNREACHABLE_AFTER,
    Attention,
    attention,
    expected_backup_age,
    failed_operation_words,
    site_conditions,
    slots_free,
    wix_work_unasked,
)
from .backups import (
    BackupActions,
    InFlight,
    NextBackup,
    backup_actions,
    backup_evicted_next,
    collection_names_by_id,
    delete_refusal,
    evicted_by_next_backup,
    in_flight,
    next_backup,
    next_backup_plan,
    pin_limit,
    pin_refusal,
    refusal,
    restore_refusal,
    restore_running,
    slot_count,
    slots_with_pins,
    with_pins,
)
from .restores import (
    snapshot_restore_refusal,
    undo_collections,
    undo_of,
    undo_refusal,
)
from .snapshots import (
    PREVIEW_PAGE_SIZE,
    PREVIEWS_KEPT,
    RetentionPreview,
    SnapshotActions,
    backup_snapshot,
    owner_time_zone,
    preview_refusal,
    retention_preview,
    retention_refusal,
    retention_rules,
    snapshot_actions,
    snapshot_delete_refusal,
    snapshot_running,
    snapshot_use_refusal,
)

__all__ = [
    "CAUSE_OF_OPERATION",
    "PREVIEWS_KEPT",
    "PREVIEW_PAGE_SIZE",
    "STATE_CAUSES",
    "UNREACHABLE_AFTER",
    "Attention",
    "BackupActions",
    "InFlight",
    "NextBackup",
    "RetentionPreview",
    "RetentionRules",
    "SnapshotActions",
    "attention",
    "backup_actions",
    "backup_evicted_next",
    "backup_snapshot",
    "collection_names_by_id",
    "delete_refusal",
    "evicted_by_next_backup",
    "expected_backup_age",
    "failed_operation_words",
    "in_flight",
    "next_backup",
    "next_backup_plan",
    "owner_time_zone",
    "pin_limit",
    "pin_refusal",
    "preview_refusal",
    "refusal",
    "restore_refusal",
    "restore_running",
    "retention_preview",
    "retention_refusal",
    "retention_rules",
    "site_conditions",
    "slot_count",
    "slots_free",
    "slots_with_pins",
    "snapshot_actions",
    "snapshot_delete_refusal",
    "snapshot_restore_refusal",
    "snapshot_running",
    "snapshot_use_refusal",
    "undo_collections",
    "undo_of",
    "undo_refusal",
    "with_pins",
    "wix_work_unasked",
]
