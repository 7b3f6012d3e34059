"""Wix's Data Collections API as the emulated Wix does it: each collection's schema (fields,
permissions, paging modes and what a Wix app's collection refuses)."""

from typing import Any

from ..models import EmuCollection, EmuSite
from .content import SYSTEM_SCHEMA, wix_time
from .errors import invalid
from .items import MAX_PAGE, find_collection

DEFAULT_COLLECTIONS_PAGE = 50


def collection_json(collection: EmuCollection) -> dict[str, Any]:
    writable = collection.writable
    native = collection.collection_type == EmuCollection.NATIVE
    return {
        "id": collection.collection_id,
        "displayName": collection.display_name,
        "collectionType": collection.collection_type,
        "ownerAppId": collection.owner_app_id or None,
        "maxPageSize": collection.max_page_size,
        "displayField": collection.display_field or None,
        "fields": SYSTEM_SCHEMA + list(collection.fields),
        "permissions": collection.permissions
        or {"insert": "ADMIN", "update": "ADMIN", "remove": "ADMIN", "read": "ANYONE"},
        "pagingModes": ["OFFSET", "CURSOR"],
        "capabilities": {
            "dataOperations": [
                "COUNT",
                "QUERY",
                "GET",
                *(
                    [
                        "INSERT",
                        "UPDATE",
                        "REMOVE",
                        "SAVE",
                        "BULK_INSERT",
                        "BULK_UPDATE",
                        "BULK_REMOVE",
                        "BULK_SAVE",
                        "TRUNCATE",
                    ]
                    if writable
                    else []
                ),
            ],
            "collectionOperations": ["UPDATE", "REMOVE"] if native else [],
            "indexLimits": {"regular": 3, "unique": 1, "total": 4},
        },
        "revision": str(collection.revision),
        "createdDate": wix_time(collection.created_at),
        "updatedDate": wix_time(collection.created_at),
    }


def list_collections(site: EmuSite, limit: int, offset: int) -> dict[str, Any]:
    collections = site.collections.order_by("collection_id")
    total = collections.count()
    page = list(collections[offset : offset + limit])
    return {
        "collections": [collection_json(c) for c in page],
        "pagingMetadata": {
            "count": len(page),
            "offset": offset,
            "total": total,
            "tooManyToCount": False,
            "hasNext": offset + len(page) < total,
        },
    }


def get_collection(site: EmuSite, collection_id: str) -> dict[str, Any]:
    return {"collection": collection_json(find_collection(site, collection_id))}


def collections_paging(limit: int | None, offset: int | None) -> tuple[int, int]:
    limit = limit or DEFAULT_COLLECTIONS_PAGE
    if limit > MAX_PAGE:
        raise invalid("paging.limit", f"must be at most {MAX_PAGE}", "MAX")
    return limit, offset or 0
