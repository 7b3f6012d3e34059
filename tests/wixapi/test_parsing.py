"""Reading Wix's answers into typed results: Wix's own documented examples first, then every way an
answer can be off (contract, "Objects")."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest

from wixapi import (
    Backup,
    BackupCollection,
    BackupStatus,
    BackupType,
    Page,
    RestorationStatus,
    RestoreCollection,
    WixProtocolError,
)
from wixapi.models import parse_backup, parse_page, parse_restoration

# Wix's examples, as published on dev.wix.com/docs/rest/business-solutions/cms/backups/*: a 6-digit
# fraction, sizeInBytes as a string, explicit nulls, `paging_metadata` without `total`, and no
# `collections` / `restorationCollections` at all.
WIX_CREATE_BACKUP_EXAMPLE = b"""{
  "backup": {
    "id": "8af59df8-4915-45d1-b4d3-a31592d9311c",
    "requestedDate": "2022-07-27T13:14:59.903407Z",
    "startedDate": null,
    "finishedDate": null,
    "deletedDate": null,
    "sizeInBytes": null,
    "status": "PENDING",
    "type": "ON_DEMAND"
  }
}"""

WIX_LIST_BACKUPS_EXAMPLE = b"""{
  "backups": [
    {
      "id": "8c683199-dbd9-4591-883f-32b0298ecaf2",
      "requestedDate": "2022-05-25T15:12:06.797Z",
      "startedDate": "2022-05-25T15:12:07.025Z",
      "finishedDate": null,
      "deletedDate": null,
      "sizeInBytes": null,
      "status": "PENDING",
      "type": "ON_DEMAND"
    },
    {
      "id": "11384bcd-2106-416d-8ec6-19fbb7d92c20",
      "requestedDate": "2022-05-25T15:10:56.394Z",
      "startedDate": "2022-05-25T15:10:56.603Z",
      "finishedDate": "2022-05-25T15:10:56.913Z",
      "deletedDate": null,
      "sizeInBytes": "1584",
      "status": "READY",
      "type": "ON_DEMAND"
    }
  ],
  "paging_metadata": {
    "count": 2,
    "offset": 0
  }
}"""

WIX_RESTORE_BACKUP_EXAMPLE = b"""{
  "restoration": {
    "id": "0bd30197-2012-4c35-a4f0-a0d5ef7ecea0",
    "requestedDate": "2022-05-26T07:17:02.209Z",
    "startedDate": null,
    "finishedDate": null,
    "backup": {
      "id": "bfab4dac-c835-4cf7-8b47-adbe1ca1ea34",
      "requestedDate": "2022-05-25T15:10:56.394Z",
      "startedDate": "2022-05-25T15:10:56.603Z",
      "finishedDate": "2022-05-25T15:10:56.913Z",
      "deletedDate": null,
      "sizeInBytes": "1584",
      "status": "READY",
      "type": "ON_DEMAND"
    },
    "status": "PENDING"
  }
}"""

BACKUP = {
    "id": "11384bcd-2106-416d-8ec6-19fbb7d92c20",
    "requestedDate": "2022-05-25T15:10:56.394Z",
    "startedDate": "2022-05-25T15:10:56.603Z",
    "finishedDate": "2022-05-25T15:10:56.913Z",
    "deletedDate": None,
    "sizeInBytes": "1584",
    "status": "READY",
    "type": "ON_DEMAND",
    "collections": [
        {"id": "Products", "displayName": "Products"},
        {"id": "Log", "displayName": None},
    ],
}

RESTORATION = {
    "id": "0bd30197-2012-4c35-a4f0-a0d5ef7ecea0",
    "requestedDate": "2022-05-26T07:17:02.209Z",
    "startedDate": "2022-05-26T07:17:03.000Z",
    "finishedDate": None,
    "backup": BACKUP,
    "status": "COMPLETED",
    "restorationCollections": [
        {"dataCollectionId": "Products"},
        {
            "dataCollectionId": "Orders",
            "restoreDestination": {"dataCollectionId": "OrdersCopy", "displayName": "Orders copy"},
        },
        {
            "dataCollectionId": "Log",
            "restoreDestination": {"dataCollectionId": "LogCopy", "displayName": None},
        },
    ],
}


def test_wix_create_example_parses_with_its_six_digit_fraction(wire, client):
    wire.reply(wire.json(WIX_CREATE_BACKUP_EXAMPLE))

    backup = client.create_backup()

    assert backup == Backup(
        id="8af59df8-4915-45d1-b4d3-a31592d9311c",
        status=BackupStatus.PENDING,
        type=BackupType.ON_DEMAND,
        requested_date=datetime(2022, 7, 27, 13, 14, 59, 903407, tzinfo=UTC),
    )
    assert backup.collections == ()


def test_wix_list_example_parses_paging_metadata_in_snake_case_without_total(wire, client):
    wire.reply(wire.json(WIX_LIST_BACKUPS_EXAMPLE))

    page = client.list_backups()

    assert (page.count, page.offset, page.total) == (2, 0, None)
    pending, ready = page.items
    assert pending.status == "PENDING"
    assert pending.started_date == datetime(2022, 5, 25, 15, 12, 7, 25000, tzinfo=UTC)
    assert pending.finished_date is None
    assert pending.size_in_bytes is None
    assert ready.status is BackupStatus.READY
    assert ready.size_in_bytes == 1584
    assert ready.finished_date == datetime(2022, 5, 25, 15, 10, 56, 913000, tzinfo=UTC)


def test_wix_restore_example_parses_with_its_embedded_backup(wire, client):
    wire.reply(wire.json(WIX_RESTORE_BACKUP_EXAMPLE))

    restoration = client.restore_backup("bfab4dac-c835-4cf7-8b47-adbe1ca1ea34")

    assert restoration.id == "0bd30197-2012-4c35-a4f0-a0d5ef7ecea0"
    assert restoration.status is RestorationStatus.PENDING
    assert restoration.requested_date == datetime(2022, 5, 26, 7, 17, 2, 209000, tzinfo=UTC)
    assert restoration.started_date is None
    assert restoration.backup.id == "bfab4dac-c835-4cf7-8b47-adbe1ca1ea34"
    assert restoration.backup.size_in_bytes == 1584
    assert restoration.restoration_collections == ()


def test_a_full_backup_object_maps_every_field_to_python_names_and_types():
    backup = parse_backup(BACKUP)

    assert backup == Backup(
        id="11384bcd-2106-416d-8ec6-19fbb7d92c20",
        status=BackupStatus.READY,
        type=BackupType.ON_DEMAND,
        requested_date=datetime(2022, 5, 25, 15, 10, 56, 394000, tzinfo=UTC),
        started_date=datetime(2022, 5, 25, 15, 10, 56, 603000, tzinfo=UTC),
        finished_date=datetime(2022, 5, 25, 15, 10, 56, 913000, tzinfo=UTC),
        deleted_date=None,
        size_in_bytes=1584,
        collections=(BackupCollection("Products", "Products"), BackupCollection("Log", None)),
    )


def test_a_restoration_embeds_its_backup_and_reads_restore_destinations():
    restoration = parse_restoration(RESTORATION)

    assert restoration.backup == parse_backup(BACKUP)
    assert restoration.restoration_collections == (
        RestoreCollection("Products"),
        RestoreCollection("Orders", "OrdersCopy", "Orders copy"),
        RestoreCollection("Log", "LogCopy", None),
    )


def test_results_are_frozen():
    backup = parse_backup(BACKUP)

    with pytest.raises(AttributeError):
        backup.status = "DELETED"  # type: ignore[misc]


def test_dates_are_timezone_aware_utc_whatever_offset_wix_writes():
    backup = parse_backup({**BACKUP, "deletedDate": "2022-05-25T17:10:56.5+02:00"})

    assert backup.deleted_date == datetime(2022, 5, 25, 15, 10, 56, 500000, tzinfo=UTC)
    assert backup.deleted_date.tzinfo is UTC


def test_unknown_fields_are_ignored():
    body = {
        **BACKUP,
        "newField": {"deep": [1, 2]},
        "collections": [{"id": "A", "displayName": None, "itemCount": "3"}],
    }

    backup = parse_backup(body)

    assert backup.collections == (BackupCollection("A", None),)


def test_an_enum_value_wix_adds_later_is_kept_as_its_string_instead_of_failing_the_page():
    page = parse_page(
        {"backups": [BACKUP, {**BACKUP, "id": "b2", "status": "ARCHIVED", "type": "SCHEDULED"}]},
        "backups",
        parse_backup,
        0,
    )

    known, unknown = page.items
    assert known.status is BackupStatus.READY
    assert (unknown.status, unknown.type) == ("ARCHIVED", "SCHEDULED")
    assert not isinstance(unknown.status, BackupStatus)


def test_both_spellings_of_paging_metadata_are_read():
    camel = parse_page(
        {"backups": [BACKUP], "pagingMetadata": {"count": 1, "offset": 3, "total": 9}},
        "backups",
        parse_backup,
        3,
    )
    snake = parse_page(
        {"backups": [BACKUP], "paging_metadata": {"count": 1, "offset": 3, "total": 9}},
        "backups",
        parse_backup,
        3,
    )

    assert camel == snake
    assert (camel.count, camel.offset, camel.total) == (1, 3, 9)


def test_a_page_without_paging_metadata_counts_its_items_and_keeps_the_offset_asked():
    page = parse_page({"restorations": [RESTORATION]}, "restorations", parse_restoration, 20)

    assert page == Page(items=(parse_restoration(RESTORATION),), count=1, offset=20, total=None)


def _without(obj: dict, path: str) -> dict:
    broken = copy.deepcopy(obj)
    *parents, last = path.split(".")
    target = broken
    for key in parents:
        target = target[key]
    del target[last]
    return broken


def _with(obj: dict, path: str, value: object) -> dict:
    broken = copy.deepcopy(obj)
    *parents, last = path.split(".")
    target = broken
    for key in parents:
        target = target[key]
    target[last] = value
    return broken


@pytest.mark.parametrize("field", ["id", "status", "requestedDate", "backup", "backup.id"])
def test_a_missing_required_restoration_field_is_a_protocol_error_naming_it(field):
    with pytest.raises(WixProtocolError, match=field.split(".")[-1]):
        parse_restoration(_without(RESTORATION, field))


@pytest.mark.parametrize("field", ["id", "status", "type", "requestedDate"])
def test_a_missing_required_backup_field_is_a_protocol_error_not_a_key_error(field):
    with pytest.raises(WixProtocolError, match=field):
        parse_backup(_without(BACKUP, field))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id", 42),
        ("id", ""),
        ("status", ["READY"]),
        ("type", None),
        ("requestedDate", 1653491456),
        ("requestedDate", "yesterday"),
        ("requestedDate", "2022-05-25T15:10:56.394Z" * 10),
        ("startedDate", {"seconds": 1}),
        ("sizeInBytes", "12kB"),
        ("sizeInBytes", "-1"),
        ("sizeInBytes", " 12"),
        ("sizeInBytes", "1_000"),
        ("sizeInBytes", True),
        ("sizeInBytes", 1.5),
        ("sizeInBytes", [1584]),
        ("collections", {"id": "A"}),
        ("collections", ["A"]),
        ("collections", [{"displayName": "A"}]),
        ("collections", [{"id": "A", "displayName": 7}]),
    ],
)
def test_a_backup_field_of_the_wrong_type_is_a_short_protocol_error(field, value):
    with pytest.raises(WixProtocolError, match=field) as caught:
        parse_backup(_with(BACKUP, field, value))

    assert len(str(caught.value)) < 120


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("backup", "bfab4dac"),
        ("backup.sizeInBytes", "many"),
        ("restorationCollections", [{"restoreDestination": {"dataCollectionId": "X"}}]),
        ("restorationCollections", [{"dataCollectionId": "A", "restoreDestination": "B"}]),
        ("restorationCollections", [{"dataCollectionId": "A", "restoreDestination": {}}]),
    ],
)
def test_a_restoration_field_of_the_wrong_type_is_a_protocol_error(field, value):
    with pytest.raises(WixProtocolError):
        parse_restoration(_with(RESTORATION, field, value))


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"backups": None},
        {"backups": {"0": {}}},
        {"items": []},
        {"backups": [], "pagingMetadata": {"count": "2"}},
        {"backups": [], "pagingMetadata": {"total": -1}},
        {"backups": [], "pagingMetadata": {"offset": True}},
        {"backups": [], "pagingMetadata": []},
        {"backups": ["not an object"]},
    ],
)
def test_a_list_answer_that_is_not_the_contract_is_a_protocol_error(body):
    with pytest.raises(WixProtocolError):
        parse_page(body, "backups", parse_backup, 0)


@pytest.mark.parametrize(
    "body",
    [b"{}", b'{"backup": null}', b'{"backup": []}', b"[]", b'"backup"', b"null"],
)
def test_a_create_answer_without_a_backup_object_is_a_protocol_error(wire, client, body):
    wire.reply(wire.json(body))

    with pytest.raises(WixProtocolError):
        client.create_backup()
