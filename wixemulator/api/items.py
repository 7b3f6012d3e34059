"""Wix's Data Items API over HTTP (docs/wix-data-api.md), in every form Wix's own SDKs send:
the REST reference's (POST query, DELETE an item) and `@wix/data`'s (GET query with `?.r=`, the
request's JSON in base64url, and POST /items/remove)."""

import base64
import binascii
from datetime import datetime
from typing import Any

from django.http import HttpRequest

from ..models import EmuSite
from ..services import invalid, items
from .params import data_body, decode_body, query_params
from .pipeline import DATA, wix_endpoint

# The SDK sends the GET form only while its URL stays within 2,048 characters.
MAX_ENCODED_QUERY = 4096


def _sdk_query(request: HttpRequest) -> dict[str, Any]:
    """The request a `GET .../items/query?.r=<base64url of JSON>` carries."""
    encoded = query_params(request).get(".r", [""])[-1]
    if not encoded or len(encoded) > MAX_ENCODED_QUERY:
        raise invalid(".r", "must hold the query request, base64url-encoded", "FORMAT")
    try:
        raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except (binascii.Error, ValueError) as error:
        raise invalid(".r", "is not base64url", "FORMAT") from error
    return decode_body(raw)


@wix_endpoint("GET", "POST", scope=DATA)
def query(request: HttpRequest, site: EmuSite, now: datetime) -> dict[str, Any]:
    body = _sdk_query(request) if request.method == "GET" else data_body(request)
    return items.query_items(site, now, body)


@wix_endpoint("POST", scope=DATA)
def count(request: HttpRequest, site: EmuSite, now: datetime) -> dict[str, Any]:
    return items.count_items(site, data_body(request))


@wix_endpoint("POST", scope=DATA)
def insert(request: HttpRequest, site: EmuSite, now: datetime) -> dict[str, Any]:
    return items.insert_item(site, now, data_body(request), "insert")


@wix_endpoint("POST", scope=DATA)
def update(request: HttpRequest, site: EmuSite, now: datetime) -> dict[str, Any]:
    return items.insert_item(site, now, data_body(request), "update")


@wix_endpoint("POST", scope=DATA)
def save(request: HttpRequest, site: EmuSite, now: datetime) -> dict[str, Any]:
    return items.insert_item(site, now, data_body(request), "save")


@wix_endpoint("POST", scope=DATA)
def remove(request: HttpRequest, site: EmuSite, now: datetime) -> dict[str, Any]:
    body = data_body(request)
    return items.remove_item(site, body.get("dataCollectionId"), body.get("dataItemId"))


@wix_endpoint("POST", scope=DATA)
def truncate(request: HttpRequest, site: EmuSite, now: datetime) -> dict[str, Any]:
    return items.truncate(site, data_body(request))


@wix_endpoint("GET", "DELETE", scope=DATA)
def item(request: HttpRequest, site: EmuSite, now: datetime, item_id: str) -> dict[str, Any]:
    # consistentRead is accepted and changes nothing: the emulator's reads are always consistent.
    collection_id = query_params(request).get("dataCollectionId", [None])[-1]
    if request.method == "DELETE":
        return items.remove_item(site, collection_id, item_id)
    return items.get_item(site, collection_id, item_id)


def _bulk(mode: str) -> Any:
    @wix_endpoint("POST", scope=DATA)
    def view(request: HttpRequest, site: EmuSite, now: datetime) -> dict[str, Any]:
        return items.bulk_write(site, now, data_body(request), mode)

    view.__name__ = view.__qualname__ = f"bulk_{mode}"
    return view


bulk_insert = _bulk("insert")
bulk_save = _bulk("save")
bulk_update = _bulk("update")
bulk_remove = _bulk("remove")
