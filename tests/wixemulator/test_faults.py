import time

import pytest
import requests

from wixemulator import services as emu
from wixemulator.models import EmuBackup, EmuRequestLog

from .conftest import BACKUPS


def test_error_faults_answer_500_or_503_and_do_nothing(wix):
    emu.set_faults(wix.creds.site_id, error_rate=1.0)
    statuses = set()
    for _ in range(12):
        answer = wix.call("POST", BACKUPS, json={})
        statuses.add(answer.status_code)
        assert answer.headers["X-Wix-Request-Id"]
        if answer.status_code == 503:
            assert answer.content == b""  # Wix's 5xx bodies may be empty
    assert statuses == {500, 503}
    assert not EmuBackup.objects.exists()


def test_rate_limit_faults_answer_429_with_retry_after(wix):
    emu.set_faults(wix.creds.site_id, rate_limit_rate=1.0)
    answer = wix.call("GET", BACKUPS)
    assert answer.status_code == 429
    assert answer.headers["Retry-After"] == "1"
    assert answer.json()["details"]["applicationError"]["code"] == "RESOURCE_EXHAUSTED"


def test_count_limits_faults_to_the_next_requests(wix):
    emu.set_faults(wix.creds.site_id, error_rate=1.0, count=2)
    codes = [wix.call("GET", BACKUPS).status_code for _ in range(4)]
    assert codes[0] >= 500 and codes[1] >= 500
    assert codes[2:] == [200, 200]


@pytest.mark.concurrent
def test_concurrent_requests_never_spend_more_faults_than_the_count(wix):
    from concurrent.futures import ThreadPoolExecutor

    emu.set_faults(wix.creds.site_id, error_rate=1.0, count=3)

    def one(_: int) -> int:
        # A session per thread: requests' sessions are not shared between threads.
        with requests.Session() as session:
            answer = session.get(wix.base + BACKUPS, headers=wix.headers(), timeout=10)
            return answer.status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(one, range(16)))
    assert sum(code >= 500 for code in codes) == 3, codes


def test_delay_faults_answer_late_but_answer(wix):
    emu.set_faults(wix.creds.site_id, delay_rate=1.0, delay_seconds=0.5)
    started = time.monotonic()
    answer = wix.call("GET", BACKUPS)
    assert answer.status_code == 200
    assert time.monotonic() - started >= 0.5


def test_a_delay_longer_than_the_client_waits_is_a_timeout_after_the_work_is_done(wix):
    emu.set_faults(wix.creds.site_id, delay_rate=1.0, delay_seconds=1.5, count=1)
    with pytest.raises(requests.Timeout):
        wix.session.post(wix.base + BACKUPS, json={}, headers=wix.headers(), timeout=(5, 0.3))
    # The server works on after the client gave up: wait for its work, however slow the machine,
    # rather than for a guessed time.
    deadline = time.monotonic() + 30
    while not EmuBackup.objects.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    # The create happened although its answer never arrived: the ambiguity a client must handle.
    assert len(wix.backups()) == 1


def test_dropped_connections_give_no_answer_but_the_work_is_done(wix):
    emu.set_faults(wix.creds.site_id, drop_rate=1.0, count=1)
    with pytest.raises(requests.ConnectionError):
        wix.call("POST", BACKUPS, json={})
    assert EmuBackup.objects.count() == 1
    assert wix.call("GET", BACKUPS).status_code == 200  # the server is still fine


def test_fail_rate_makes_backups_end_failed(wix):
    emu.set_faults(wix.creds.site_id, fail_rate=1.0)
    backup = wix.create_backup()
    assert backup["status"] == "PENDING"
    wix.wait()
    failed = wix.backup(backup["id"])
    assert failed["status"] == "FAILED"
    assert failed["finishedDate"]


def test_mixed_faults_come_in_the_configured_shares(wix):
    emu.set_faults(wix.creds.site_id, error_rate=0.5)
    codes = [wix.call("GET", BACKUPS).status_code for _ in range(80)]
    failures = sum(code >= 500 for code in codes)
    # Binomial(80, 0.5): outside 20..60 has a probability below one in a million.
    assert 20 <= failures <= 60


def test_fault_shares_are_validated():
    with pytest.raises(ValueError, match="at most 1"):
        emu.set_faults("00000000-0000-0000-0000-000000000000", error_rate=0.6, drop_rate=0.6)
    with pytest.raises(ValueError, match="between 0 and 1"):
        emu.set_faults("00000000-0000-0000-0000-000000000000", fail_rate=2)


def test_the_rate_limit_answers_429_past_the_limit_per_site(wix, settings):
    settings.WIXEMULATOR_RATE_LIMIT = 10
    codes = [wix.call("GET", BACKUPS).status_code for _ in range(12)]
    assert codes[:10] == [200] * 10
    limited = wix.call("GET", BACKUPS)
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1
    assert limited.json()["details"]["applicationError"]["code"] == "RESOURCE_EXHAUSTED"
    # Another site has its own budget.
    other = emu.create_site(name="Other")
    answer = wix.call(
        "GET", BACKUPS, headers={"Authorization": other.api_key, "wix-site-id": other.site_id}
    )
    assert answer.status_code == 200


def test_the_rate_limit_is_200_per_minute_by_default(wix, settings):
    assert settings.WIXEMULATOR_RATE_LIMIT == 200
    EmuRequestLog.objects.bulk_create(
        [
            EmuRequestLog(
                site_id=wix.creds.site_id, method="GET", path=BACKUPS, status=200, request_id="x"
            )
            for _ in range(199)
        ]
    )
    assert wix.call("GET", BACKUPS).status_code == 200
    assert wix.call("GET", BACKUPS).status_code == 429
