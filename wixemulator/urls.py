from django.urls import path, re_path

from . import api, views

app_name = "wixemulator"

urlpatterns = [
    # Wix's API paths. /restorations must come before /{backupId} (contract: "Match
    # /restorations before /{backupId}").
    path("wix-data/v2/backups", api.backups, name="backups"),
    path("wix-data/v2/backups/restorations", api.restorations, name="restorations"),
    path("wix-data/v2/backups/<str:backup_id>/restore", api.restore, name="restore"),
    path(
        "wix-data/v2/backups/<str:backup_id>/partial-restore",
        api.partial_restore,
        name="partial-restore",
    ),
    path("wix-data/v2/backups/<str:backup_id>", api.backup, name="backup"),
    path("oauth2/token", api.oauth_token, name="oauth-token"),
    re_path(r"^(?P<rest>(?:wix-data|oauth2)(?:/.*)?)$", api.not_found),
    # The data browser (staff only).
    path("", views.home, name="home"),
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
