"""A plain-Python client of Wix's Backups, Data Items and Data Collections APIs (v2). No Django
here: `sites/` passes in whatever it needs (base URL, credentials, a cache), so this package
knows nothing of ours.

    client = WixBackupsClient(base_url="https://www.wixapis.com",
                              auth=ApiKeyAuth(api_key="...", site_id="..."))
    backup = client.create_backup()
"""

from .auth import ApiKeyAuth, AppOAuth, Auth, MemoryTokenCache, TokenCache
from .backups import WixBackupsClient
from .data import WixDataClient
from .data_models import (
    BulkItemResult,
    BulkResult,
    CollectionField,
    DataCollection,
    DataItem,
    ItemError,
    ItemPage,
)
from .errors import (
    WixAuthError,
    WixConflict,
    WixError,
    WixNotFound,
    WixPermissionError,
    WixProtocolError,
    WixRateLimited,
    WixServerError,
    WixUnavailable,
    WixValidationError,
)
from .models import (
    Backup,
    BackupCollection,
    BackupStatus,
    BackupType,
    Page,
    Restoration,
    RestorationStatus,
    RestoreCollection,
)
from .transport import USER_AGENT

__all__ = [
    "USER_AGENT",
    "ApiKeyAuth",
    "AppOAuth",
    "Auth",
    "Backup",
    "BackupCollection",
    "BackupStatus",
    "BackupType",
    "BulkItemResult",
    "BulkResult",
    "CollectionField",
    "DataCollection",
    "DataItem",
    "ItemError",
    "ItemPage",
    "MemoryTokenCache",
    "Page",
    "Restoration",
    "RestorationStatus",
    "RestoreCollection",
    "TokenCache",
    "WixAuthError",
    "WixBackupsClient",
    "WixConflict",
    "WixDataClient",
    "WixError",
    "WixNotFound",
    "WixPermissionError",
    "WixProtocolError",
    "WixRateLimited",
    "WixServerError",
    "WixUnavailable",
    "WixValidationError",
]
