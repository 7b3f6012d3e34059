"""The emulated Data Items and Data Collections APIs over HTTP, in the forms Wix's SDK sends."""

import base64
import json
from typing import Any

from wixemulator import services as emu
from wixemulator.models import EmuItem

ITEMS = "/wix-data/v2/items"


def b64url(request: dict[str, Any]) -> str:
    # As @wix/data's ApiClient encodes it: JSON, base64url, no padding.
    raw = base64.urlsafe_b64encode(json.dumps(request).encode()).decode()
    return raw.rstrip("=")


def query(wix, body: dict[str, Any]) -> dict[str, Any]:
    answer = wix.call("POST", f"{ITEMS}/query", json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_query_defaults_to_50_items_ordered_by_created_date_with_system_fields(wix):
    page = query(wix, {"dataCollectionId": "Products", "returnTotalCount": True})
    assert len(page["dataItems"]) == 50
    meta = page["pagingMetadata"]
    assert meta["count"] == 50 and meta["total"] == 300 and meta["hasNext"] is True
    first = page["dataItems"][0]
    assert first["id"] == "product-0001" and first["dataCollectionId"] == "Products"
    assert first["data"]["_id"] == "product-0001"
    assert first["data"]["_createdDate"]["$date"].endswith("Z")
    assert len(first["data"]["_updatedDate"]["$date"]) == len("2026-11-27T10:00:00.000Z")
    created = [i["data"]["_createdDate"]["$date"] for i in page["dataItems"]]
    assert created == sorted(created)


def test_the_sdk_get_form_answers_as_the_post(wix):
    request = {
        "dataCollectionId": "Products",
        "query": {"filter": {"stock": {"$gt": 100}}, "sort": [{"fieldName": "price"}]},
    }
    posted = query(wix, request)
    got = wix.call("GET", f"{ITEMS}/query", params={".r": b64url(request)})
    assert got.status_code == 200, got.text
    assert got.json() == posted
    prices = [i["data"]["price"] for i in posted["dataItems"]]
    assert prices == sorted(prices) and all(i["data"]["stock"] > 100 for i in posted["dataItems"])


def test_a_garbled_sdk_get_form_is_400(wix):
    answer = wix.call("GET", f"{ITEMS}/query", params={".r": "not*base64"})
    assert answer.status_code == 400
    assert answer.json()["details"]["validationError"]["fieldViolations"][0]["field"] == ".r"


def test_cursor_paging_reads_the_collection_as_of_the_first_page(wix):
    body = {"dataCollectionId": "Products", "query": {"cursorPaging": {"limit": 100}}}
    page = query(wix, body)
    seen = [i["id"] for i in page["dataItems"]]
    # Writes during paging: a new item and a removed one change nothing already promised.
    insert = wix.call(
        "POST", ITEMS, json={"dataCollectionId": "Products", "dataItem": {"data": {}}}
    )
    assert insert.status_code == 200
    while page["pagingMetadata"]["cursors"]["next"]:
        cursor = page["pagingMetadata"]["cursors"]["next"]
        page = query(wix, {"query": {"cursorPaging": {"limit": 100, "cursor": cursor}}})
        seen += [i["id"] for i in page["dataItems"]]
    assert page["pagingMetadata"]["hasNext"] is False
    assert len(seen) == len(set(seen)) == 300


def test_a_foreign_or_expired_cursor_is_400(wix):
    body = {"dataCollectionId": "Products", "query": {"cursorPaging": {"limit": 10}}}
    cursor = query(wix, body)["pagingMetadata"]["cursors"]["next"]
    forged = wix.call("POST", f"{ITEMS}/query", json={"query": {"cursorPaging": {"cursor": "xyz"}}})
    assert forged.status_code == 400
    emu.advance_clock(wix.creds.site_id, seconds=31 * 60)
    stale = wix.call("POST", f"{ITEMS}/query", json={"query": {"cursorPaging": {"cursor": cursor}}})
    assert stale.status_code == 400


def test_limits_page_size_and_unknown_collection(wix):
    big = {"dataCollectionId": "Products", "query": {"paging": {"limit": 1001}}}
    assert wix.call("POST", f"{ITEMS}/query", json=big).status_code == 400
    stores = {"dataCollectionId": "Stores/Products", "query": {"paging": {"limit": 101}}}
    assert wix.call("POST", f"{ITEMS}/query", json=stores).status_code == 400
    missing = wix.call("POST", f"{ITEMS}/query", json={"dataCollectionId": "Nope"})
    assert missing.status_code == 404
    assert missing.json()["details"]["applicationError"]["code"] == "WDE0025"
    assert wix.call("POST", f"{ITEMS}/query", json={}).status_code == 400


def test_count_and_get_and_filters_on_updated_date(wix):
    count = wix.call("POST", f"{ITEMS}/count", json={"dataCollectionId": "Customers"})
    assert count.json() == {"totalCount": 60}
    got = wix.call("GET", f"{ITEMS}/customer-007", params={"dataCollectionId": "Customers"})
    assert got.json()["dataItem"]["data"]["email"].endswith("@example.com")
    missing = wix.call("GET", f"{ITEMS}/nope", params={"dataCollectionId": "Customers"})
    assert missing.status_code == 404
    assert missing.json()["details"]["applicationError"]["code"] == "WDE0073"
    stamp = got.json()["dataItem"]["data"]["_updatedDate"]
    newer = {"dataCollectionId": "Customers", "filter": {"_updatedDate": {"$gt": stamp}}}
    assert 0 < wix.call("POST", f"{ITEMS}/count", json=newer).json()["totalCount"] < 60


def test_bulk_writes_answer_a_result_per_item_and_one_bad_item_fails_alone(wix):
    inserted = wix.call(
        "POST",
        "/wix-data/v2/bulk/items/insert",
        json={
            "dataCollectionId": "Events",
            "dataItems": [{"id": "event-001", "data": {}}, {"id": "e-new", "data": {"title": "x"}}],
            "returnEntity": True,
            "suppressHooks": True,
        },
    ).json()
    first, second = inserted["results"]
    assert first["itemMetadata"]["success"] is False
    assert first["itemMetadata"]["error"]["code"] == "WDE0074"
    assert second["action"] == "INSERT" and second["dataItem"]["data"]["title"] == "x"
    assert inserted["bulkActionMetadata"]["totalSuccesses"] == 1

    updated = wix.call(
        "POST",
        "/wix-data/v2/bulk/items/update",
        json={
            "dataCollectionId": "Events",
            "dataItems": [{"id": "e-new", "data": {"capacity": 3}}],
        },
    ).json()
    assert updated["results"][0]["action"] == "UPDATE"
    # Update replaces the whole item: the title left out is gone.
    assert "title" not in EmuItem.objects.get(item_id="e-new").data

    removed = wix.call(
        "POST",
        "/wix-data/v2/bulk/items/remove",
        json={"dataCollectionId": "Events", "dataItemIds": ["e-new", "gone"]},
    ).json()
    assert [r["itemMetadata"]["success"] for r in removed["results"]] == [True, False]
    assert removed["results"][1]["itemMetadata"]["error"]["code"] == "WDE0073"


def test_bulk_limits_1000_items_and_500_kb_per_item(wix):
    many = {"dataCollectionId": "Events", "dataItems": [{"data": {}}] * 1001}
    assert wix.call("POST", "/wix-data/v2/bulk/items/save", json=many).status_code == 400
    huge = {"dataCollectionId": "Events", "dataItems": [{"data": {"x": "a" * 600_000}}]}
    answer = wix.call("POST", "/wix-data/v2/bulk/items/save", json=huge).json()
    assert answer["results"][0]["itemMetadata"]["error"]["code"] == "WDE0009"


def test_sdk_remove_form_and_wix_app_collections_refuse_writes(wix):
    removed = wix.call(
        "POST", f"{ITEMS}/remove", json={"dataCollectionId": "BlogPosts", "dataItemId": "post-001"}
    )
    assert removed.json()["dataItem"]["id"] == "post-001"
    refused = wix.call(
        "POST",
        "/wix-data/v2/bulk/items/insert",
        json={"dataCollectionId": "Stores/Products", "dataItems": [{"data": {}}]},
    )
    assert refused.status_code == 403
    assert refused.json()["details"]["applicationError"]["code"] == "WDE0027"


def test_collections_list_their_schema_and_capabilities(wix):
    listed = wix.call("GET", "/wix-data/v2/collections", params={"paging.limit": 2}).json()
    assert listed["pagingMetadata"] == {
        "count": 2,
        "offset": 0,
        "total": 5,
        "tooManyToCount": False,
        "hasNext": True,
    }
    stores = wix.call("GET", "/wix-data/v2/collections/Stores/Products").json()["collection"]
    assert stores["collectionType"] == "WIX_APP" and stores["maxPageSize"] == 100
    assert "INSERT" not in stores["capabilities"]["dataOperations"]
    customers = wix.call("GET", "/wix-data/v2/collections/Customers").json()["collection"]
    types = {f["type"] for f in customers["fields"]}
    assert {"TEXT", "NUMBER", "BOOLEAN", "ADDRESS", "DATETIME", "OBJECT"} <= types


def test_a_completed_restoration_shows_in_the_data_items_api(wix):
    backup = wix.create_backup()
    wix.wait()
    wix.call("POST", f"{ITEMS}/truncate", json={"dataCollectionId": "Customers"})
    assert wix.call("POST", f"{ITEMS}/count", json={"dataCollectionId": "Customers"}).json() == {
        "totalCount": 0
    }
    wix.restore(backup["id"])
    wix.wait()
    count = wix.call("POST", f"{ITEMS}/count", json={"dataCollectionId": "Customers"}).json()
    assert count == {"totalCount": 60}


def test_the_data_api_has_the_backups_rate_limit_with_wix_datas_code(wix, settings):
    settings.WIXEMULATOR_RATE_LIMIT = 2
    for _ in range(2):
        wix.call("POST", f"{ITEMS}/count", json={"dataCollectionId": "Customers"})
    answer = wix.call("POST", f"{ITEMS}/count", json={"dataCollectionId": "Customers"})
    assert answer.status_code == 429
    assert answer.json()["details"]["applicationError"]["code"] == "WDE0014"


def test_a_key_without_the_data_permission_is_403(wix):
    key = emu.add_api_key(wix.creds.site_id, can_manage_data=False)
    answer = wix.call(
        "POST",
        f"{ITEMS}/count",
        json={"dataCollectionId": "Customers"},
        headers={"Authorization": key},
    )
    assert answer.status_code == 403
