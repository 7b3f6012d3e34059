"""iter_backups / iter_restorations read every page, and stop even when the server never would."""

from __future__ import annotations

import pytest

from wixapi import WixProtocolError, WixServerError


def backup(n: int) -> dict:
    return {
        "id": f"b{n}",
        "requestedDate": f"2024-01-{n + 1:02d}T00:00:00.000Z",
        "status": "READY",
        "type": "AUTO",
        "collections": [],
    }


def restoration(n: int) -> dict:
    return {
        "id": f"r{n}",
        "requestedDate": "2024-02-01T00:00:00.000Z",
        "status": "COMPLETED",
        "backup": backup(n),
        "restorationCollections": [],
    }


def page(items: list, offset: int, total: int | None, key: str = "backups") -> dict:
    meta = {"count": len(items), "offset": offset}
    if total is not None:
        meta["total"] = total
    return {key: items, "pagingMetadata": meta}


def test_iter_backups_reads_every_page_until_total(wire, client):
    wire.reply(
        wire.json(page([backup(0), backup(1)], 0, 5)),
        wire.json(page([backup(2), backup(3)], 2, 5)),
        wire.json(page([backup(4)], 4, 5)),
    )

    ids = [b.id for b in client.iter_backups(status=["READY", "PENDING"], page_size=2)]

    assert ids == ["b0", "b1", "b2", "b3", "b4"]
    assert [r.query for r in wire.requests] == [
        f"status=READY&status=PENDING&paging.limit=2&paging.offset={offset}" for offset in (0, 2, 4)
    ]


def test_iter_stops_when_total_is_reached_on_a_full_page(wire, client):
    wire.reply(
        wire.json(page([backup(0), backup(1)], 0, 4)), wire.json(page([backup(2), backup(3)], 2, 4))
    )

    assert len(list(client.iter_backups(page_size=2))) == 4
    assert len(wire.requests) == 2


def test_without_total_iter_stops_at_a_short_page(wire, client):
    wire.reply(
        wire.json(page([backup(0), backup(1)], 0, None)),
        wire.json(page([backup(2)], 2, None)),
    )

    assert [b.id for b in client.iter_backups(page_size=2)] == ["b0", "b1", "b2"]
    assert len(wire.requests) == 2


def test_without_total_iter_stops_at_an_empty_page(wire, client):
    wire.reply(wire.json(page([backup(0), backup(1)], 0, None)), wire.json(page([], 2, None)))

    assert [b.id for b in client.iter_backups(page_size=2)] == ["b0", "b1"]
    assert len(wire.requests) == 2


def test_an_empty_page_before_total_ends_the_listing_rather_than_spinning(wire, client):
    wire.reply(wire.json(page([backup(0)], 0, 10)), wire.json(page([], 1, 10)))

    assert [b.id for b in client.iter_backups(page_size=1)] == ["b0"]
    assert len(wire.requests) == 2


def test_an_item_pushed_onto_the_next_page_by_a_new_backup_is_yielded_once(wire, client):
    # A backup created between the two calls shifts b1 from the first page to the second.
    wire.reply(
        wire.json(page([backup(0), backup(1)], 0, 3)),
        wire.json(page([backup(1), backup(2)], 2, 4)),
    )

    assert [b.id for b in client.iter_backups(page_size=2)] == ["b0", "b1", "b2"]


def test_a_server_that_never_ends_is_cut_off_after_max_pages(wire, make_client):
    client = make_client(max_pages=3)
    wire.reply(*[wire.json(page([backup(n)], n, None)) for n in range(5)])

    with pytest.raises(WixProtocolError, match="3 pages"):
        list(client.iter_backups(page_size=1))

    assert len(wire.requests) == 3


def test_a_page_larger_than_asked_is_a_protocol_error(wire, client):
    wire.reply(wire.json(page([backup(0), backup(1), backup(2)], 0, 3)))

    with pytest.raises(WixProtocolError, match="asked for 2"):
        list(client.iter_backups(page_size=2))


def test_iter_restorations_pages_with_status_filter(wire, client):
    wire.reply(
        wire.json(page([restoration(0), restoration(1)], 0, 3, key="restorations")),
        wire.json(page([restoration(2)], 2, 3, key="restorations")),
    )

    restorations = list(client.iter_restorations(status=["COMPLETED"], page_size=2))

    assert [r.id for r in restorations] == ["r0", "r1", "r2"]
    assert [r.target for r in wire.requests] == [
        "/wix-data/v2/backups/restorations?status=COMPLETED&paging.limit=2&paging.offset=0",
        "/wix-data/v2/backups/restorations?status=COMPLETED&paging.limit=2&paging.offset=2",
    ]


def test_a_failure_mid_listing_surfaces_after_the_items_already_read(wire, make_client):
    client = make_client(max_retries=0)
    wire.reply(wire.json(page([backup(0)], 0, 2)), wire.error(503))
    seen = []

    with pytest.raises(WixServerError):
        for b in client.iter_backups(page_size=1):
            seen.append(b.id)

    assert seen == ["b0"]


@pytest.mark.parametrize("page_size", [0, 1001])
def test_a_page_size_outside_wixs_range_is_refused(client, page_size):
    with pytest.raises(ValueError, match="page_size"):
        client.iter_backups(page_size=page_size)
