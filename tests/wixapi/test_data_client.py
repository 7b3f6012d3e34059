"""The Data Items and Data Collections client against the emulator over HTTP, and against the
scripted wire server for answers the emulator never gives (a short page, a lost cursor)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from wixapi import (
    ApiKeyAuth,
    WixDataClient,
    WixNotFound,
    WixProtocolError,
    WixRateLimited,
    WixServerError,
    WixUnavailable,
    WixValidationError,
)
from wixemulator import services as emu
from wixemulator.models import EmuRequestLog


@pytest.fixture
def data(emulator_url, emu_site):
    sleeps: list[float] = []
    client = WixDataClient(
        emulator_url,
        ApiKeyAuth(api_key=emu_site.api_key, site_id=emu_site.site_id),
        sleep=sleeps.append,
    )
    client.sleeps = sleeps
    yield client
    client.close()


def test_iter_items_reads_every_item_once_by_cursor(data):
    ids = [item.id for item in data.iter_items("Products", page_size=70)]
    assert len(ids) == len(set(ids)) == 300


def test_count_get_and_query_with_total(data):
    assert data.count_items("Customers") == 60
    item = data.get_item("Customers", "customer-003")
    assert item.data["_id"] == "customer-003"
    page = data.query_items("Customers", limit=10, offset=55, return_total_count=True)
    assert (page.count, page.total, page.has_next) == (5, 60, False)


def test_a_missing_collection_and_a_missing_item_are_not_found_with_wix_codes(data):
    with pytest.raises(WixNotFound) as gone:
        data.query_items("Nope")
    assert gone.value.code == "WDE0025"
    with pytest.raises(WixNotFound) as missing:
        data.get_item("Customers", "nope")
    assert missing.value.code == "WDE0073"


def test_bulk_results_are_per_item_and_a_missing_id_is_not_an_exception(data):
    result = data.bulk_update("Events", [{"_id": "event-001", "title": "New"}, {"_id": "gone"}])
    assert (result.total_successes, result.total_failures) == (1, 1)
    assert result.failed[0].error.code == "WDE0073"
    assert data.get_item("Events", "event-001").data["title"] == "New"
    removed = data.bulk_remove("Events", ["event-001"])
    assert removed.results[0].action == "DELETE"


def test_over_the_page_limit_is_refused(data):
    with pytest.raises(WixValidationError):
        data.query_items("Stores/Products", limit=500)


def test_collections_schema_and_a_wix_app_collection_says_it_is_read_only(data):
    collections = {c.id: c for c in data.iter_collections(page_size=2)}
    assert set(collections) == {"BlogPosts", "Customers", "Events", "Products", "Stores/Products"}
    stores = data.get_collection("Stores/Products")
    assert stores.collection_type == "WIX_APP" and not stores.writable
    assert stores.max_page_size == 100
    assert {"_id", "email", "address"} <= {f.key for f in collections["Customers"].fields}


def test_a_rate_limited_query_backs_off_and_succeeds(data, emu_site):
    emu.set_faults(emu_site.site_id, rate_limit_rate=1.0, count=1)
    assert data.count_items("Customers") == 60
    assert data.sleeps and data.sleeps[0] >= 1  # the emulator's Retry-After


def test_writes_are_not_retried(data, emu_site):
    emu.set_faults(emu_site.site_id, error_rate=1.0, count=1)
    with pytest.raises(Exception) as failed:
        data.bulk_insert("Events", [{"title": "once"}])
    assert failed.value.transient
    assert data.sleeps == []


def _queries(site_id) -> int:
    """How many item queries the emulator has answered for the site (its request log)."""
    return EmuRequestLog.objects.filter(
        site__site_id=site_id, path__endswith="/wix-data/v2/items/query"
    ).count()


def test_paging_to_the_end_of_100000_items_asks_for_one_page_at_a_time(
    emulator_url, transactional_db
):
    # Memory itself is measured by bench/data_paging.py; here, what makes it constant: the read
    # is lazy and fetches the next page only when the previous one is used up.
    creds = emu.create_site(name="Big", items=100_000)
    client = WixDataClient(emulator_url, ApiKeyAuth(api_key=creds.api_key, site_id=creds.site_id))
    read = client.iter_items("Items")
    assert isinstance(read, Iterator) and _queries(creds.site_id) == 0
    seen = {next(read).id}
    assert _queries(creds.site_id) == 1
    for _ in range(999):  # the rest of the first page comes without a request
        seen.add(next(read).id)
    assert _queries(creds.site_id) == 1
    seen.update(item.id for item in read)
    client.close()
    assert len(seen) == 100_000
    assert _queries(creds.site_id) == 100


# --- limits ---------------------------------------------------------------------------------


def test_a_bulk_call_over_1000_items_is_refused_before_anything_is_sent(wire, wire_data):
    too_many = [{"title": str(n)} for n in range(1001)]
    for call in (wire_data.bulk_insert, wire_data.bulk_save, wire_data.bulk_update):
        with pytest.raises(ValueError, match="1 to 1000"):
            call("C", too_many)
    with pytest.raises(ValueError, match="1 to 1000"):
        wire_data.bulk_remove("C", [str(n) for n in range(1001)])
    with pytest.raises(ValueError, match="1 to 1000"):
        wire_data.bulk_insert("C", [])
    assert wire.requests == []


def test_a_bulk_call_of_exactly_1000_items_is_sent_and_each_gets_a_result(data):
    result = data.bulk_insert("Events", [{"title": f"e{n}"} for n in range(1000)])
    assert (result.total_successes, result.total_failures) == (1000, 0)
    assert [r.original_index for r in result.results] == list(range(1000))


def test_an_item_over_500_kb_fails_alone_in_its_bulk_result(data):
    big = {"_id": "big-one", "title": "x" * (500 * 1024 + 1)}
    result = data.bulk_insert("Events", [{"_id": "small-one", "title": "fits"}, big])
    assert (result.total_successes, result.total_failures) == (1, 1)
    (failure,) = result.failed
    assert (failure.original_index, failure.error.code) == (1, "WDE0009")
    assert data.get_item("Events", "small-one").data["title"] == "fits"
    with pytest.raises(WixNotFound):
        data.get_item("Events", "big-one")


# --- the emulator's injected faults ---------------------------------------------------------


def test_a_read_answered_5xx_is_retried_until_it_succeeds(data, emu_site):
    emu.set_faults(emu_site.site_id, error_rate=1.0, count=2)
    page = data.query_items("Customers", limit=10)
    assert page.count == 10
    assert len(data.sleeps) == 2


def test_a_read_whose_connection_drops_is_retried(data, emu_site):
    emu.set_faults(emu_site.site_id, drop_rate=1.0, count=1)
    assert data.count_items("Customers") == 60
    assert len(data.sleeps) == 1


def test_a_read_that_keeps_failing_raises_unavailable_after_its_retries(data, emu_site):
    emu.set_faults(emu_site.site_id, drop_rate=1.0, count=10)
    with pytest.raises(WixUnavailable):
        list(data.iter_items("Customers"))
    assert len(data.sleeps) == 3  # max_retries


def test_a_garbled_read_is_a_protocol_error_and_not_retried(data, emu_site):
    # A 200 whose body is not the contract's is no passing hiccup: trying again hides a bug.
    emu.set_faults(emu_site.site_id, garbage_rate=1.0, count=1)
    with pytest.raises(WixProtocolError):
        data.query_items("Customers")
    assert data.sleeps == []


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("error_rate", WixServerError),
        ("rate_limit_rate", WixRateLimited),
        ("drop_rate", WixUnavailable),
        ("garbage_rate", WixProtocolError),
    ],
)
def test_a_bulk_write_that_fails_in_transit_is_never_retried(data, emu_site, fault, error):
    emu.set_faults(emu_site.site_id, **{fault: 1.0}, count=1)
    with pytest.raises(error):
        data.bulk_save("Events", [{"_id": "sent-once", "title": "once"}])
    assert data.sleeps == []
    writes = EmuRequestLog.objects.filter(
        site__site_id=emu_site.site_id, path__endswith="/bulk/items/save"
    )
    assert writes.count() <= 1  # a dropped request may leave no log row; never two


def test_a_bulk_write_whose_answer_was_garbled_may_have_happened(data, emu_site):
    # Why writes are never retried: the emulator (like Wix) did the work before the answer broke.
    emu.set_faults(emu_site.site_id, garbage_rate=1.0, count=1)
    with pytest.raises(WixProtocolError):
        data.bulk_insert("Events", [{"_id": "landed", "title": "did it"}])
    assert data.get_item("Events", "landed").data["title"] == "did it"


# --- bad answers from Wix -------------------------------------------------------------------


@pytest.fixture
def wire_data(wire):
    client = WixDataClient(wire.url, ApiKeyAuth(api_key="IST.k", site_id="s"), sleep=lambda s: None)
    yield client
    client.close()


def _page(items, count=None, next_cursor=None, has_next=None):
    meta = {"count": len(items) if count is None else count, "cursors": {"next": next_cursor}}
    if has_next is not None:
        meta["hasNext"] = has_next
    return {"dataItems": items, "pagingMetadata": meta}


ITEM = {"id": "a", "dataCollectionId": "C", "data": {"_id": "a"}}


def test_a_page_with_fewer_items_than_its_count_is_a_protocol_error(wire, wire_data):
    wire.reply(wire.json(_page([ITEM], count=2)))
    with pytest.raises(WixProtocolError, match="holds 1"):
        wire_data.query_items("C")


def test_a_page_promising_more_without_a_cursor_is_never_a_silent_short_read(wire, wire_data):
    wire.reply(wire.json(_page([ITEM], has_next=True)))
    with pytest.raises(WixProtocolError, match="no cursor"):
        list(wire_data.iter_items("C"))


def test_a_cursor_that_fails_mid_read_raises(wire, wire_data):
    wire.reply(
        wire.json(_page([ITEM], next_cursor="c1", has_next=True)),
        *[wire.error(400, None, "cursor is unknown or expired")],
    )
    read = wire_data.iter_items("C")
    assert next(read).id == "a"
    with pytest.raises(WixValidationError):
        next(read)
    assert wire.requests[1].json()["query"] == {"cursorPaging": {"limit": 1000, "cursor": "c1"}}


def test_garbled_json_is_a_protocol_error(wire, wire_data):
    wire.reply(wire.raw(b'{"dataItems": [', 200))
    with pytest.raises(WixProtocolError):
        wire_data.count_items("C")
