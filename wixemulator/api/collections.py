"""Wix's Data Collections API over HTTP (read calls only: the product learns schemas)."""

from datetime import datetime
from typing import Any

from django.http import HttpRequest

from ..models import EmuSite
from ..services import collections
from .params import int_param, query_params
from .pipeline import DATA, wix_endpoint


@wix_endpoint("GET", scope=DATA)
def collection_list(request: HttpRequest, site: EmuSite, now: datetime) -> dict[str, Any]:
    params = query_params(request)
    limit = int_param(params, "paging.limit", 0, None)
    offset = int_param(params, "paging.offset", 0, None)
    return collections.list_collections(site, *collections.collections_paging(limit, offset))


@wix_endpoint("GET", scope=DATA)
def collection(
    request: HttpRequest, site: EmuSite, now: datetime, collection_id: str
) -> dict[str, Any]:
    # The SDK repeats the id as ?dataCollectionId=; the path's id is the one that counts.
    return collections.get_collection(site, collection_id)
