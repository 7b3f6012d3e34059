"""One operation's page: from the click to Wix's final answer."""

from dataclasses import dataclass

from ..models import Backup, Operation, Restoration
from .live import Announcement, Live, encode_watch, parse_watch
from .restores import RestoreInfo, restore_info


@dataclass
class OperationPage:
    operation: Operation
    backup: Backup | None
    restoration: Restoration | None
    live: Live
    # A restore's safety snapshot, counts and Undo (None for other operations).
    restore: RestoreInfo | None = None


def operation_page(*, operation: Operation, watched: str = "") -> OperationPage:
    site = operation.site
    backup = site.backups.filter(wix_id=operation.backup_wix_id).first()
    restoration = (
        site.restorations.filter(wix_id=operation.restoration_wix_id).first()
        if operation.restoration_wix_id
        else None
    )
    # A restore operation succeeds only once Wix's restoration is COMPLETED, so "finished" covers
    # both; after a failure nothing polls Wix for this restoration any more, so neither do we.
    in_flight = not operation.is_finished
    states = {f"o.{operation.pk}": operation.state}
    if restoration is not None:
        states[f"r.{restoration.wix_id}"] = restoration.status
    if backup is not None and operation.kind != Operation.Kind.DELETE_BACKUP:
        states[f"b.{backup.wix_id}"] = backup.status
    announcements = []
    for key, status in parse_watch(watched).items():
        if states.get(key, status) == status:
            continue
        if key.startswith("o."):
            announcements.append(Announcement("operation", operation, operation.state))
        elif key.startswith("r.") and restoration is not None:
            announcements.append(
                Announcement("restoration", restoration, restoration.status, site=site)
            )
        elif key.startswith("b.") and backup is not None:
            announcements.append(Announcement("backup", backup, backup.status))
    live = Live(str(site.version), encode_watch(states), in_flight, announcements)
    return OperationPage(
        operation=operation,
        backup=backup,
        restoration=restoration,
        live=live,
        restore=restore_info(operation),
    )
