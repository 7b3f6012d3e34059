"""What each page shows, built from the rules (`sites/rules.py`) and access (`sites/access.py`).

Everything here reads our database only, never Wix, and never imports the engine: the live
endpoints poll every 2 seconds, so each page costs a fixed handful of queries whatever the number
of rows.
"""

from .activity import ActivityPage, UnknownKind, activity_page
from .alerts import AlertsPage, alerts_page, mailbox_enabled, mailbox_messages
from .backups import BackupsPage, backups_page
from .dashboard import Dashboard, dashboard
from .live import dashboard_version, operation_version, site_version
from .operation import OperationPage, operation_page
from .preview import ItemsPage, PreviewPage, items_page, preview_page, preview_version
from .restores import RestoreInfo, restore_info, restore_undo_page, wix_safety_context
from .schedules import schedule_views
from .site import SitePage, site_page
from .state import SiteState, site_state, site_states

__all__ = [
    "ActivityPage",
    "AlertsPage",
    "BackupsPage",
    "Dashboard",
    "ItemsPage",
    "OperationPage",
    "PreviewPage",
    "RestoreInfo",
    "SitePage",
    "SiteState",
    "UnknownKind",
    "activity_page",
    "alerts_page",
    "backups_page",
    "dashboard",
    "dashboard_version",
    "items_page",
    "mailbox_enabled",
    "mailbox_messages",
    "operation_page",
    "operation_version",
    "preview_page",
    "preview_version",
    "restore_info",
    "restore_undo_page",
    "schedule_views",
    "site_page",
    "site_state",
    "site_states",
    "site_version",
    "wix_safety_context",
]
