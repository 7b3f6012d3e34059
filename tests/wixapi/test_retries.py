"""GETs are retried on transient errors with backoff, jitter and Retry-After; POST and DELETE never
are, because a create that timed out may have happened (architecture.md, habit 5)."""

from __future__ import annotations

import pytest

from wixapi import (
    RestoreCollection,
    WixError,
    WixProtocolError,
    WixRateLimited,
    WixServerError,
    WixUnavailable,
)

BACKUP_ID = "11384bcd-2106-416d-8ec6-19fbb7d92c20"
EMPTY_PAGE = {"backups": [], "pagingMetadata": {"count": 0, "offset": 0, "total": 0}}


def test_a_get_is_retried_after_a_server_error_and_succeeds(wire, client, sleeps):
    wire.reply(wire.error(503), wire.json(EMPTY_PAGE))

    page = client.list_backups(status=["READY"])

    assert page.items == ()
    assert len(wire.requests) == 2
    assert wire.requests[0].target == wire.requests[1].target
    assert len(sleeps) == 1


def test_a_get_is_retried_after_a_dropped_connection(wire, client, sleeps):
    wire.reply(wire.drop(), wire.reset(), wire.json(EMPTY_PAGE))

    assert client.list_backups().items == ()
    assert len(wire.requests) == 3


def test_a_get_gives_up_after_the_bounded_number_of_retries(wire, make_client, sleeps):
    client = make_client(max_retries=2)
    wire.reply(wire.error(500), wire.error(502), wire.error(504), wire.json(EMPTY_PAGE))

    with pytest.raises(WixServerError) as caught:
        client.list_restorations()

    assert caught.value.status == 504
    assert len(wire.requests) == 3
    assert len(sleeps) == 2


def test_backoff_doubles_each_time_and_is_capped(wire, make_client, sleeps):
    # jitter() == 1.0 takes the top of each range, so the delays are exactly the backoff.
    client = make_client(max_retries=4, backoff_base=1.0, backoff_max=5.0, jitter=lambda: 1.0)
    wire.reply(*[wire.error(503) for _ in range(5)])

    with pytest.raises(WixServerError):
        client.list_backups()

    assert sleeps == [1.0, 2.0, 4.0, 5.0]


def test_jitter_spreads_each_delay_over_its_upper_half(wire, make_client, sleeps):
    client = make_client(max_retries=2, backoff_base=2.0, jitter=lambda: 0.0)
    wire.reply(wire.error(503), wire.error(503), wire.json(EMPTY_PAGE))

    client.list_backups()

    assert sleeps == [1.0, 2.0]


def test_retry_after_is_waited_out_before_retrying(wire, client, sleeps):
    wire.reply(
        wire.error(429, "RESOURCE_EXHAUSTED", headers={"Retry-After": "7"}),
        wire.json(EMPTY_PAGE),
    )

    client.list_backups()

    assert sleeps == [7.0]


def test_a_retry_after_beyond_the_limit_is_left_to_the_caller(wire, make_client, sleeps):
    client = make_client(max_retry_after=30.0)
    wire.reply(wire.error(429, "RESOURCE_EXHAUSTED", headers={"Retry-After": "120"}))

    with pytest.raises(WixRateLimited) as caught:
        client.list_backups()

    assert caught.value.retry_after == 120.0
    assert len(wire.requests) == 1
    assert sleeps == []


@pytest.mark.parametrize(
    "failure", ["error", "drop", "timeout"], ids=["server-error", "dropped", "timed-out"]
)
@pytest.mark.parametrize("call", ["create", "restore", "partial-restore", "delete"])
def test_post_and_delete_are_never_retried(wire, make_client, sleeps, call, failure):
    client = make_client(read_timeout=0.2)
    answer = {
        "error": wire.error(503),
        "drop": wire.drop(),
        "timeout": wire.nothing_for(seconds=2),
    }[failure]
    wire.reply(answer, wire.json({}))
    calls = {
        "create": client.create_backup,
        "restore": lambda: client.restore_backup(BACKUP_ID),
        "partial-restore": lambda: client.restore_partial_backup(
            BACKUP_ID, [RestoreCollection("Products")]
        ),
        "delete": lambda: client.delete_backup(BACKUP_ID),
    }

    with pytest.raises((WixServerError, WixUnavailable)):
        calls[call]()

    assert len(wire.requests) == 1
    assert sleeps == []


@pytest.mark.parametrize("status", [400, 403, 404, 409, 428])
def test_a_get_is_not_retried_on_a_permanent_error(wire, client, sleeps, status):
    wire.reply(wire.error(status), wire.json(EMPTY_PAGE))

    with pytest.raises(WixError) as caught:
        client.list_backups()

    assert caught.value.status == status
    assert not caught.value.transient
    assert len(wire.requests) == 1


def test_a_get_is_not_retried_on_a_protocol_error(wire, client, sleeps):
    wire.reply(wire.raw(b"<html>", 200), wire.json(EMPTY_PAGE))

    with pytest.raises(WixProtocolError):
        client.list_backups()

    assert len(wire.requests) == 1
