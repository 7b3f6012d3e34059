"""Every way a call can fail maps to one WixError class, with what Wix said about it
(contract, "Errors"), and no bad answer hangs the caller or fills its memory."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from wixapi import (
    WixAuthError,
    WixConflict,
    WixError,
    WixNotFound,
    WixPermissionError,
    WixProtocolError,
    WixRateLimited,
    WixServerError,
    WixUnavailable,
    WixValidationError,
)

BACKUP_ID = "11384bcd-2106-416d-8ec6-19fbb7d92c20"


@pytest.mark.parametrize(
    ("status", "code", "error_class", "transient"),
    [
        (400, None, WixValidationError, False),
        (401, None, WixAuthError, False),
        (403, None, WixPermissionError, False),
        (404, "BACKUP_NOT_FOUND", WixNotFound, False),
        (409, "RESTORATION_IN_PROGRESS", WixConflict, False),
        (428, "BACKUP_NOT_READY", WixConflict, False),
        (429, "RESOURCE_EXHAUSTED", WixRateLimited, True),
        (500, None, WixServerError, True),
        (503, None, WixServerError, True),
        (504, None, WixServerError, True),
        (405, None, WixError, False),
    ],
)
def test_each_status_raises_its_class_with_code_message_and_request_id(
    wire, make_client, status, code, error_class, transient
):
    client = make_client(max_retries=0)
    wire.reply(wire.error(status, code, message="Backup is not ready", request_id="rq-77"))

    with pytest.raises(error_class) as caught:
        client.restore_backup(BACKUP_ID)

    error = caught.value
    assert type(error) is error_class
    assert (error.status, error.code, error.request_id) == (status, code, "rq-77")
    assert error.message == "Backup is not ready"
    assert error.transient is transient
    assert "rq-77" in str(error)


@pytest.mark.parametrize(
    ("error_class", "transient"),
    [
        (WixValidationError, False),
        (WixAuthError, False),
        (WixPermissionError, False),
        (WixNotFound, False),
        (WixConflict, False),
        (WixRateLimited, True),
        (WixServerError, True),
        (WixUnavailable, True),
        (WixProtocolError, False),
    ],
)
def test_every_class_is_marked_transient_or_permanent_and_is_a_wix_error(error_class, transient):
    assert issubclass(error_class, WixError)
    assert error_class.transient is transient


def test_a_validation_error_exposes_wixs_field_violations(wire, client):
    violation = {"field": "paging.limit", "description": "must be <= 1000", "violatedRule": "MAX"}
    details = {"validationError": {"fieldViolations": [violation]}}
    wire.reply(wire.json({"message": "invalid", "details": details}, status=400))

    with pytest.raises(WixValidationError) as caught:
        client.list_backups(limit=1001)

    assert caught.value.field_violations == [violation]
    assert caught.value.code is None


def test_a_server_error_with_an_empty_or_html_body_still_has_status_and_request_id(
    wire, make_client
):
    client = make_client(max_retries=0)
    wire.reply(wire.raw(b"<html>Bad gateway</html>", 503, {"X-Wix-Request-Id": "rq-5"}))

    with pytest.raises(WixServerError) as caught:
        client.create_backup()

    assert (caught.value.status, caught.value.request_id) == (503, "rq-5")
    assert caught.value.message == "Wix answered HTTP 503"


def test_a_huge_error_message_is_cut_short(wire, client):
    wire.reply(wire.error(404, "BACKUP_NOT_FOUND", message="x" * 100_000))

    with pytest.raises(WixNotFound) as caught:
        client.delete_backup(BACKUP_ID)

    assert len(caught.value.message) <= 300


def test_a_gigantic_error_body_is_ignored_not_read_whole(wire, client):
    wire.reply(wire.raw(b'{"message": "' + b"y" * 5_000_000 + b'"}', 404))

    with pytest.raises(WixNotFound) as caught:
        client.delete_backup(BACKUP_ID)

    assert caught.value.message == "Wix answered HTTP 404"


def test_rate_limit_carries_retry_after_in_seconds(wire, make_client):
    client = make_client(max_retries=0)
    wire.reply(wire.error(429, "RESOURCE_EXHAUSTED", headers={"Retry-After": "17"}))

    with pytest.raises(WixRateLimited) as caught:
        client.create_backup()

    assert caught.value.retry_after == 17.0


def test_rate_limit_reads_retry_after_as_an_http_date(wire, make_client):
    client = make_client(max_retries=0)
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    wire.reply(wire.error(429, "RESOURCE_EXHAUSTED", headers={"Retry-After": when}))

    with pytest.raises(WixRateLimited) as caught:
        client.create_backup()

    assert 100 < caught.value.retry_after <= 120


def test_rate_limit_without_retry_after_says_so_with_none(wire, make_client):
    client = make_client(max_retries=0)
    wire.reply(wire.error(429, "RESOURCE_EXHAUSTED", headers={"Retry-After": "soon"}))

    with pytest.raises(WixRateLimited) as caught:
        client.create_backup()

    assert caught.value.retry_after is None


# --- answers that break the contract ------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"<html><body>Service Unavailable</body></html>",
        b"",
        b'{"backup": {"id": "a"',
        b'{"backup": NaN}',
        b"\xff\xfe{}",
        b"[" * 100_000 + b"]" * 100_000,
        b'{"backup": {"sizeInBytes": 1' + b"0" * 10_000 + b"}}",
    ],
    ids=["html", "empty", "truncated-json", "nan", "not-utf8", "deep-nesting", "huge-integer"],
)
def test_a_200_that_is_not_json_is_a_short_protocol_error_with_the_request_id(wire, client, body):
    wire.reply(wire.raw(body, 200, {"X-Wix-Request-Id": "rq-9"}))

    with pytest.raises(WixProtocolError) as caught:
        client.create_backup()

    assert (caught.value.status, caught.value.request_id) == (200, "rq-9")
    assert len(str(caught.value)) < 120


def test_a_body_cut_off_before_its_content_length_is_a_protocol_error(wire, client):
    wire.reply(wire.cut_off(b'{"backups": [], "pagingMet', declared=500))

    with pytest.raises(WixProtocolError, match="cut off"):
        client.list_backups()


def test_a_broken_chunked_body_is_a_protocol_error(wire, client):
    wire.reply(wire.broken_chunks())

    with pytest.raises(WixProtocolError, match="cut off"):
        client.create_backup()


def test_a_gigantic_declared_body_is_refused_without_reading_it(wire, make_client):
    client = make_client(max_response_bytes=1000)
    wire.reply(wire.raw(b"{" + b" " * 5000 + b"}"))

    with pytest.raises(WixProtocolError, match="larger than 1000 bytes"):
        client.create_backup()


def test_a_gigantic_chunked_body_is_abandoned_at_the_size_limit(wire, make_client):
    client = make_client(max_response_bytes=256 * 1024)
    wire.reply(wire.endless_chunks(total_bytes=64 * 1024 * 1024))

    with pytest.raises(WixProtocolError, match="larger than 262144 bytes"):
        client.list_backups()


def test_a_compressed_body_is_limited_by_its_decompressed_size(wire, make_client):
    client = make_client(max_response_bytes=1024 * 1024)
    wire.reply(wire.gzip_bomb(decompressed_bytes=50 * 1024 * 1024))

    with pytest.raises(WixProtocolError, match="larger than"):
        client.list_backups()


def test_a_body_within_the_limit_is_read_whole(wire, make_client):
    client = make_client(max_response_bytes=1024 * 1024)
    body = b'{"backups": [], "pagingMetadata": {"count": 0, "offset": 0, "total": 0}}'
    wire.reply(wire.raw(body + b" " * (1024 * 1024 - len(body))))

    assert client.list_backups().items == ()


def test_a_trickling_body_is_abandoned_at_the_response_deadline(wire, make_client):
    # One byte every 20 ms never trips the read timeout; only the overall deadline stops it.
    # Were the deadline ignored, the whole answer would arrive (after ~2 s) and no error be raised.
    client = make_client(read_timeout=1.0, max_response_seconds=0.3, max_retries=0)
    wire.reply(wire.trickle(b'{"backups": [], "pad": "' + b" " * 100 + b'"}', interval=0.02))

    with pytest.raises(WixUnavailable, match=r"took over 0\.3s"):
        client.list_backups()


def test_a_body_that_stalls_after_the_headers_times_out_as_unavailable(wire, make_client):
    client = make_client(read_timeout=0.2, max_retries=0)
    wire.reply(wire.headers_then_stall(seconds=3))

    with pytest.raises(WixUnavailable, match="stopped sending"):
        client.list_backups()


def test_no_answer_within_the_read_timeout_is_unavailable(wire, make_client):
    client = make_client(read_timeout=0.2, max_retries=0)
    wire.reply(wire.nothing_for(seconds=3))

    with pytest.raises(WixUnavailable, match="in time") as caught:
        client.create_backup()

    assert caught.value.status is None


def test_a_dropped_connection_is_unavailable(wire, make_client):
    client = make_client(max_retries=0)
    wire.reply(wire.drop())

    with pytest.raises(WixUnavailable, match="could not reach Wix"):
        client.create_backup()


def test_a_reset_connection_is_unavailable(wire, make_client):
    client = make_client(max_retries=0)
    wire.reply(wire.reset())

    with pytest.raises(WixUnavailable, match="could not reach Wix"):
        client.create_backup()


def test_a_refused_connection_is_unavailable(make_client):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens on the port any more.
    client = make_client(base_url=f"http://127.0.0.1:{port}", max_retries=0)

    with pytest.raises(WixUnavailable):
        client.list_backups()


def test_a_non_200_success_status_breaks_the_contract(wire, client):
    wire.reply(wire.raw(b"", 204))

    with pytest.raises(WixProtocolError, match="HTTP 204"):
        client.delete_backup(BACKUP_ID)


@pytest.mark.parametrize("body", [b"[]", b"null", b'"ok"'])
def test_a_delete_answer_that_is_not_an_object_is_a_protocol_error(wire, client, body):
    wire.reply(wire.json(body))

    with pytest.raises(WixProtocolError):
        client.delete_backup(BACKUP_ID)
