"""The admin: for looking, not for changing. Changes go through the engine (and the dashboard),
so the admin shows the mirror, operations and activity read-only and never shows a stored key.
"""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import Activity, Backup, Operation, Profile, Restoration, Site


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Site)
class SiteAdmin(ReadOnlyAdmin):
    list_display = ["name", "owner", "wix_site_id", "auth_kind", "last_synced_at"]
    list_filter = ["auth_kind", "credentials_rejected"]
    search_fields = ["name", "wix_site_id", "owner__username"]
    # The encrypted key stays out of every page, even for staff.
    exclude = ["secret_encrypted"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Deleting here is disconnecting: our records go, nothing changes on Wix.
        return super(ReadOnlyAdmin, self).has_delete_permission(request, obj)


@admin.register(Backup)
class BackupAdmin(ReadOnlyAdmin):
    list_display = ["wix_id", "site", "type", "status", "requested_at", "size_in_bytes"]
    list_filter = ["status", "type"]
    search_fields = ["wix_id", "site__name"]
    list_select_related = ["site"]


@admin.register(Restoration)
class RestorationAdmin(ReadOnlyAdmin):
    list_display = ["wix_id", "site", "status", "backup_wix_id", "requested_at"]
    list_filter = ["status"]
    search_fields = ["wix_id", "backup_wix_id", "site__name"]
    list_select_related = ["site"]


@admin.register(Operation)
class OperationAdmin(ReadOnlyAdmin):
    list_display = ["id", "site", "kind", "state", "requested_by", "created_at", "error"]
    list_filter = ["state", "kind"]
    search_fields = ["id", "backup_wix_id", "site__name"]
    list_select_related = ["site", "requested_by"]


@admin.register(Activity)
class ActivityAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "site", "actor", "outcome", "message"]
    list_filter = ["outcome"]
    search_fields = ["message", "site__name"]
    list_select_related = ["site", "actor"]


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "time_zone"]
    search_fields = ["user__username"]
