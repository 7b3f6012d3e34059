"""A site's CMS content as the emulated Wix holds it: the wire form of an item, and what a backup
keeps and a restoration writes back (copied in SQL, so a site of 100,000 items stays fast)."""

import uuid
from datetime import UTC, datetime
from typing import Any

from django.db import connection, transaction

from ..models import EmuBackup, EmuBackupItem, EmuCollection, EmuItem, EmuSite

SYSTEM_FIELDS = ("_id", "_owner", "_createdDate", "_updatedDate")
# The system fields as Data Collections lists them, before a collection's own fields.
SYSTEM_SCHEMA = [
    {"key": "_id", "displayName": "ID", "type": "TEXT", "systemField": True, "required": True},
    {"key": "_owner", "displayName": "Owner", "type": "TEXT", "systemField": True},
    {"key": "_createdDate", "displayName": "Created Date", "type": "DATETIME", "systemField": True},
    {"key": "_updatedDate", "displayName": "Updated Date", "type": "DATETIME", "systemField": True},
]


def wix_time(value: datetime | None) -> str | None:
    if value is None:
        return None
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def to_millis(value: datetime) -> datetime:
    # Wix keeps system dates to the millisecond; so do we, so what was answered compares equal.
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def site_owner(site_id: uuid.UUID | str) -> str:
    """The member id Wix would give the site's owner (`_owner` of items the owner wrote)."""
    return str(uuid.uuid5(uuid.UUID(str(site_id)), "owner"))


def item_json(
    item: EmuItem, collection_id: str, owner: str, fields: list[str] | None = None
) -> dict[str, Any]:
    data = {key: value for key, value in item.data.items() if key not in SYSTEM_FIELDS}
    if fields:
        data = {key: value for key, value in data.items() if key in fields}
    data["_id"] = item.item_id
    data["_owner"] = item.owner or owner
    data["_createdDate"] = {"$date": wix_time(item.created_at)}
    data["_updatedDate"] = {"$date": wix_time(item.updated_at)}
    return {"id": item.item_id, "dataCollectionId": collection_id, "data": data}


def _table(model: type) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _uuid_param(value: uuid.UUID) -> Any:
    return EmuSite._meta.pk.get_db_prep_value(value, connection)


def backed_up_collections(site: EmuSite) -> list[EmuCollection]:
    # Wix backs up the site's own (native) CMS collections; a Wix app's collections are its own.
    return list(
        site.collections.filter(collection_type=EmuCollection.NATIVE).order_by("collection_id")
    )


def copy_into_backup(site: EmuSite, backup: EmuBackup) -> int:
    """Copy the site's native items into the backup; answers the size in bytes of what was kept."""
    items, kept, collections = _table(EmuItem), _table(EmuBackupItem), _table(EmuCollection)
    params = [_uuid_param(backup.pk), _uuid_param(site.pk), EmuCollection.NATIVE]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {kept} (backup_id, collection_id, item_id, data, created_at, "  # noqa: S608
            f"updated_at, owner) SELECT %s, c.collection_id, i.item_id, i.data, i.created_at, "
            f"i.updated_at, i.owner FROM {items} i JOIN {collections} c ON i.collection_id = c.id "
            f"WHERE c.site_id = %s AND c.collection_type = %s",
            params,
        )
        cursor.execute(
            f"SELECT COALESCE(SUM(LENGTH(CAST(data AS TEXT)) + LENGTH(item_id) + 64), 0) "  # noqa: S608
            f"FROM {kept} WHERE backup_id = %s",
            params[:1],
        )
        return int(cursor.fetchone()[0])


def restore_collection(collection: EmuCollection, backup: EmuBackup, source_id: str) -> None:
    """Replace the collection's items with those `backup` kept of collection `source_id`.

    Items come back with the ids, dates and owner they had in the backup (docs/wix-data-api.md).
    """
    items, kept = _table(EmuItem), _table(EmuBackupItem)
    with transaction.atomic():
        collection.items.all().delete()
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {items} (collection_id, item_id, data, created_at, updated_at, "  # noqa: S608
                f"owner) SELECT %s, item_id, data, created_at, updated_at, owner FROM {kept} "
                f"WHERE backup_id = %s AND collection_id = %s",
                [collection.pk, _uuid_param(backup.pk), source_id],
            )


def replace_items(collection: EmuCollection, items: list[dict[str, Any]]) -> None:
    """Set a collection's content directly (tests and the data pages): `[{"id", "data"}]`."""
    collection.items.all().delete()
    EmuItem.objects.bulk_create(
        [EmuItem(collection=collection, item_id=i["id"], data=i["data"]) for i in items],
        batch_size=500,
    )
