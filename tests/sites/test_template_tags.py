"""The `when` tag: an absolute time in the owner's zone, and nothing that depends on the clock."""

import time
import zoneinfo
from datetime import UTC, datetime, timedelta

from django.template import Context, Template
from django.utils import timezone

# 14:02:05.123456 UTC on 3 Mar 2026: 23:02 in Tokyo (+9), 19:32 in Kolkata (+5:30).
MOMENT = datetime(2026, 3, 3, 14, 2, 5, 123456, tzinfo=UTC)


def when(value: datetime | None) -> str:
    return Template("{% load wbm %}{% when value %}").render(Context({"value": value}))


def test_a_time_is_marked_up_for_the_browser_to_add_its_age():
    with timezone.override(zoneinfo.ZoneInfo("UTC")):
        assert when(MOMENT) == (
            '<time datetime="2026-03-03T14:02:05.123+00:00" data-age>3 Mar 2026, 14:02</time>'
        )


def test_the_output_is_the_same_whenever_it_is_rendered(monkeypatch):
    # Cached fragments are served long after they were rendered: nothing in them may age. Both
    # clocks move between the renders: the real one (by a second, across the minute boundary of
    # any age counted in seconds or minutes) and Django's timezone.now (by over a year).
    value = timezone.now() - timedelta(seconds=59.5)
    first = when(value)
    time.sleep(1)
    monkeypatch.setattr(timezone, "now", lambda: value + timedelta(days=400))
    assert when(value) == first
    assert "ago" not in first


def test_the_absolute_time_is_in_the_active_zone_and_the_machine_readable_one_in_utc():
    with timezone.override(zoneinfo.ZoneInfo("Asia/Tokyo")):
        tokyo = when(MOMENT)
    with timezone.override(zoneinfo.ZoneInfo("Asia/Kolkata")):
        kolkata = when(MOMENT)
    assert ">3 Mar 2026, 23:02</time>" in tokyo
    assert ">3 Mar 2026, 19:32</time>" in kolkata
    assert 'datetime="2026-03-03T14:02:05.123+00:00"' in tokyo
    assert 'datetime="2026-03-03T14:02:05.123+00:00"' in kolkata


def test_no_time_is_a_muted_dash():
    assert when(None) == '<span class="muted">—</span>'


def test_local_writes_what_djangos_date_format_would_in_every_month_and_zone():
    from django.utils.dateformat import format as date_format

    from sites.templatetags.wbm import DATE_FORMAT, local

    for zone in ("UTC", "Asia/Kolkata", "America/St_Johns", "Pacific/Chatham"):
        with timezone.override(zoneinfo.ZoneInfo(zone)):
            for month in range(1, 13):
                moment = datetime(2026, month, 1 + month, 23, 4 * month + 3, tzinfo=UTC)
                expected = date_format(timezone.localtime(moment), DATE_FORMAT)
                assert local(moment) == expected, (zone, month)


def test_sizes_read_as_djangos_filesizeformat_writes_them():
    from django.template.defaultfilters import filesizeformat

    from sites.templatetags.tables import _file_size

    sizes = [0, 1, 2, 1023, 1024, 1025, 1536, 1_572_864, 10**9, 2**40 - 1, 2**40, 3 * 2**50, -2048]
    sizes += [int(1.05 * 2**20), 1048575, 1073741823]
    for size in sizes:
        assert _file_size(size) == filesizeformat(size), size
