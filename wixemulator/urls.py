from django.urls import path, re_path

from . import views
from .api import collections, items, oauth

# The package re-exports the Backups views under their own names (api.backups is a view).
from .api.backups import backup, backups, partial_restore, restorations, restore

app_name = "wixemulator"

urlpatterns = [
    # Wix's API paths. /restorations must come before /{backupId} (contract: "Match
    # /restorations before /{backupId}").
    path("wix-data/v2/backups", backups, name="backups"),
    path("wix-data/v2/backups/restorations", restorations, name="restorations"),
    path("wix-data/v2/backups/<str:backup_id>/restore", restore, name="restore"),
    path(
        "wix-data/v2/backups/<str:backup_id>/partial-restore",
        partial_restore,
        name="partial-restore",
    ),
    path("wix-data/v2/backups/<str:backup_id>", backup, name="backup"),
    # Data Items: the named actions before /items/{dataItemId}, as on Wix.
    path("wix-data/v2/items", items.insert, name="items-insert"),
    path("wix-data/v2/items/query", items.query, name="items-query"),
    path("wix-data/v2/items/count", items.count, name="items-count"),
    path("wix-data/v2/items/remove", items.remove, name="items-remove"),
    path("wix-data/v2/items/update", items.update, name="items-update"),
    path("wix-data/v2/items/save", items.save, name="items-save"),
    path("wix-data/v2/items/truncate", items.truncate, name="items-truncate"),
    path("wix-data/v2/items/<str:item_id>", items.item, name="data-item"),
    path("wix-data/v2/bulk/items/insert", items.bulk_insert, name="bulk-insert"),
    path("wix-data/v2/bulk/items/save", items.bulk_save, name="bulk-save"),
    path("wix-data/v2/bulk/items/update", items.bulk_update, name="bulk-update"),
    path("wix-data/v2/bulk/items/remove", items.bulk_remove, name="bulk-remove"),
    # Data Collections; ids may hold a slash ("Stores/Products").
    path("wix-data/v2/collections", collections.collection_list, name="collections"),
    path(
        "wix-data/v2/collections/<path:collection_id>",
        collections.collection,
        name="data-collection",
    ),
    path("oauth2/token", oauth.oauth_token, name="oauth-token"),
    re_path(r"^(?P<rest>(?:wix-data|oauth2)(?:/.*)?)$", oauth.not_found),
    # The data browser (staff only).
    path("", views.home, name="home"),
    path("clock/advance/", views.clock_advance, name="clock-advance"),
    path("sites/<uuid:site_id>/", views.site_detail, name="site"),
    # Wix collection ids may hold a slash ("Stores/Products"): <path:>, most specific first.
    path(
        "sites/<uuid:site_id>/collections/<path:collection_id>/items/<str:item_id>/",
        views.item_edit,
        name="item",
    ),
    path(
        "sites/<uuid:site_id>/collections/<path:collection_id>/bulk/",
        views.bulk_update,
        name="bulk",
    ),
    path(
        "sites/<uuid:site_id>/collections/<path:collection_id>/",
        views.collection_detail,
        name="collection",
    ),
    path("sites/<uuid:site_id>/auto-backup/", views.auto_backup, name="auto-backup"),
]
