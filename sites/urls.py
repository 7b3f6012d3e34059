from django.urls import path, register_converter

from . import (
    alert_views,
    preview_views,
    restore_views,
    schedule_views,
    snapshot_views,
    views,
)


class WixIdConverter:
    """A Wix id in a URL: Wix's are GUIDs; anything else is a 404 before reaching the database."""

    regex = "[A-Za-z0-9_-]{1,64}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(WixIdConverter, "wixid")

app_name = "sites"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("live/", views.dashboard_live, name="dashboard_live"),
    path("account/", views.account, name="account"),
    path("alerts/", alert_views.alerts, name="alerts"),
    path("alerts/mailbox/", alert_views.mailbox, name="mailbox"),
    path("alerts/channels/<uuid:channel_id>/test/", alert_views.channel_test, name="channel_test"),
    path(
        "alerts/channels/<uuid:channel_id>/delete/",
        alert_views.channel_delete,
        name="channel_delete",
    ),
    path("alerts/sites/<uuid:site_id>/", alert_views.site_expected_age, name="expected_age"),
    path("sites/connect/", views.site_connect, name="connect"),
    path("sites/<uuid:site_id>/", views.site_detail, name="site"),
    path("sites/<uuid:site_id>/live/", views.site_live, name="site_live"),
    path("sites/<uuid:site_id>/backup/", views.site_backup, name="backup_now"),
    path("sites/<uuid:site_id>/activity/", views.site_activity, name="activity"),
    path("sites/<uuid:site_id>/backups/", views.site_backups, name="backups"),
    path("sites/<uuid:site_id>/key/", views.site_replace_key, name="replace_key"),
    path("sites/<uuid:site_id>/disconnect/", views.site_disconnect, name="disconnect"),
    path(
        "sites/<uuid:site_id>/backups/<wixid:backup_id>/restore/",
        views.backup_restore,
        name="restore",
    ),
    path(
        "sites/<uuid:site_id>/backups/<wixid:backup_id>/delete/",
        views.backup_delete,
        name="delete",
    ),
    path(
        "sites/<uuid:site_id>/operations/<uuid:operation_id>/",
        views.operation_detail,
        name="operation",
    ),
    path(
        "sites/<uuid:site_id>/operations/<uuid:operation_id>/undo/",
        restore_views.restore_undo,
        name="restore_undo",
    ),
    path(
        "sites/<uuid:site_id>/snapshots/<uuid:snapshot_id>/restore/",
        restore_views.snapshot_restore,
        name="snapshot_restore",
    ),
    path(
        "sites/<uuid:site_id>/operations/<uuid:operation_id>/live/",
        views.operation_live,
        name="operation_live",
    ),
    path(
        "sites/<uuid:site_id>/backups/<wixid:backup_id>/pin/",
        schedule_views.backup_pin,
        name="backup_pin",
    ),
    path(
        "sites/<uuid:site_id>/schedules/<slug:kind>/",
        schedule_views.schedule_edit,
        name="schedule_edit",
    ),
    path("sites/<uuid:site_id>/snapshots/", snapshot_views.snapshot_take, name="snapshot_take"),
    path(
        "sites/<uuid:site_id>/snapshots/settings/",
        snapshot_views.snapshot_settings,
        name="snapshot_settings",
    ),
    path(
        "sites/<uuid:site_id>/snapshots/<uuid:snapshot_id>/pin/",
        snapshot_views.snapshot_pin,
        name="snapshot_pin",
    ),
    path(
        "sites/<uuid:site_id>/snapshots/<uuid:snapshot_id>/verify/",
        snapshot_views.snapshot_verify,
        name="snapshot_verify",
    ),
    path(
        "sites/<uuid:site_id>/snapshots/<uuid:snapshot_id>/delete/",
        snapshot_views.snapshot_delete,
        name="snapshot_delete",
    ),
    path(
        "sites/<uuid:site_id>/snapshots/<uuid:snapshot_id>/download/",
        snapshot_views.snapshot_download,
        name="snapshot_download",
    ),
    # A collection id may hold "/" (Stores/Products): the rest of the path is the id.
    path(
        "sites/<uuid:site_id>/snapshots/<uuid:snapshot_id>/csv/<path:collection_id>",
        snapshot_views.snapshot_csv,
        name="snapshot_csv",
    ),
    path(
        "sites/<uuid:site_id>/snapshots/<uuid:snapshot_id>/preview/",
        preview_views.preview_new,
        name="preview_new",
    ),
    path(
        "sites/<uuid:site_id>/previews/<uuid:preview_id>/",
        preview_views.preview_detail,
        name="preview",
    ),
    path(
        "sites/<uuid:site_id>/previews/<uuid:preview_id>/live/",
        preview_views.preview_live,
        name="preview_live",
    ),
    path(
        "sites/<uuid:site_id>/previews/<uuid:preview_id>/items/",
        preview_views.preview_items,
        name="preview_items",
    ),
    path(
        "sites/<uuid:site_id>/previews/<uuid:preview_id>/items/<int:change_id>/",
        preview_views.preview_item,
        name="preview_item",
    ),
    path(
        "sites/<uuid:site_id>/previews/<uuid:preview_id>/restore/",
        preview_views.preview_restore,
        name="preview_restore",
    ),
    path(
        "sites/<uuid:site_id>/items/history/",
        preview_views.item_history,
        name="item_history",
    ),
]
