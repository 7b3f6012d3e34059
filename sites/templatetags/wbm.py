"""Template helpers of the owner's pages: times in the owner's zone, badges, Wix names."""

import html
import re
from collections.abc import Iterable
from datetime import datetime, tzinfo
from functools import lru_cache
from typing import Any
from urllib.parse import quote

from django import template
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from sites import rules
from sites.models import Backup, Operation, Site

register = template.Library()


def esc(value: Any) -> str:
    """HTML-escaped text: the same five characters as django.utils.html.escape, without its
    lazy-string wrapper, which cost about a quarter of a site page's drawing (bench/page_speed).
    For the page's hot paths only; the result is plain text to put in a mark_safe'd whole."""
    return html.escape(str(value), quote=True)


# What `local` writes, in Django's date format notation.
DATE_FORMAT = "j M Y, H:i"
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
TYPE_NAMES = dict(Backup.TYPES)
# As an adjective in a sentence: "the on-demand backup of 3 Mar 2026, 14:02".
TYPE_ADJECTIVES = {Backup.ON_DEMAND: "on-demand", Backup.AUTO: "automatic"}


def local_in(value: datetime, zone: tzinfo, seconds: bool = False) -> str:
    """`value` in `zone`, for sentences: 3 Mar 2026, 14:02 (DATE_FORMAT), or 14:02:09.

    Spelled out by hand: the pages are in English only, and this runs for every date of a
    site's page (~100), at a quarter of the cost of Django's date formatting. The tags that draw
    many dates look the zone up once and pass it (each lookup goes through asgiref's Local).
    """
    at = value.astimezone(zone)
    text = f"{at.day} {MONTHS[at.month - 1]} {at.year}, {at.hour:02d}:{at.minute:02d}"
    return f"{text}:{at.second:02d}" if seconds else text


def backup_time_in(value: datetime, zone: tzinfo) -> str:
    """How a backup is named for people: when it was asked for, to the second.

    Backups made in the same minute (three clicks of "Back up now", an automatic one beside an
    on-demand one) must read apart wherever one is named: its row, the eviction warning, the
    restore and delete pages, the restorations' "From backup" and the activity log.
    """
    return local_in(value, zone, seconds=True)


@register.filter
def local(value: datetime | None) -> str:
    """A timestamp in the active (the owner's) time zone, for sentences: 3 Mar 2026, 14:02."""
    if value is None:
        return "—"
    return local_in(value, timezone.get_current_timezone())


NO_TIME = mark_safe('<span class="muted">—</span>')


def time_in(value: datetime, zone: tzinfo, *, backup: bool = False) -> SafeString:
    """<time datetime="…" data-age>3 Mar 2026, 14:02</time>, the date in `zone` (with `backup`,
    a backup's request time as `backup_time_in` names it)."""
    # Built directly rather than with format_html: this runs ~100 times per site page, and only
    # the formatted date needs escaping (an ISO timestamp holds no HTML-special character).
    text = backup_time_in(value, zone) if backup else local_in(value, zone)
    return mark_safe(  # noqa: S308
        f'<time datetime="{value.isoformat(timespec="milliseconds")}" data-age>{esc(text)}</time>'
    )


@register.simple_tag
def when(value: datetime | None) -> SafeString:
    """A timestamp in the owner's zone: <time datetime="…" data-age>3 Mar 2026, 14:02</time>.

    The age ("5 minutes ago") is written next to it by static/js/ages.js in the browser, so this
    output never depends on the current time: it can be cached, and the age keeps counting on a
    page left open. Milliseconds, because an HTML datetime allows at most three fraction digits.
    """
    if value is None:
        return NO_TIME
    return time_in(value, timezone.get_current_timezone())


@register.simple_tag
def backup_when(value: datetime) -> SafeString:
    """A backup's request time in the owner's zone, to the second (`backup_time_in`)."""
    return time_in(value, timezone.get_current_timezone(), backup=True)


@register.filter
def backup_time(value: datetime) -> str:
    """A backup's request time in the owner's zone, for sentences (`backup_time_in`)."""
    return backup_time_in(value, timezone.get_current_timezone())


_STATUS = re.compile(r"[A-Z_]{1,32}")


@register.simple_tag
def badge(status: str) -> SafeString:
    """A Wix status as a badge; unknown statuses (kept as Wix sent them) get the plain style."""
    css = status if _STATUS.fullmatch(status or "") else "OTHER"
    return mark_safe(f'<span class="badge badge-{css}">{esc(status or "UNKNOWN")}</span>')  # noqa: S308


@register.simple_tag
def op_badge(operation: Operation) -> SafeString:
    return mark_safe(  # noqa: S308 - both parts escaped
        f'<span class="badge badge-op-{esc(operation.state)}">'
        f"{esc(operation.get_state_display())}</span>"
    )


@register.filter
def backup_type(value: str) -> str:
    return TYPE_NAMES.get(value, value)


@register.filter
def backup_label(backup: Backup | None) -> str:
    """How an owner recognises a backup: its type and when it was asked for."""
    if backup is None:
        return "a backup no longer listed"
    kind = TYPE_ADJECTIVES.get(backup.type, backup.type)
    return f"{kind} backup of {backup_time(backup.requested_at)}"


@register.filter
def collection_names(collections: list[dict[str, Any]]) -> str:
    """A backup's collections by name: Products, Blog Posts."""
    names = list(rules.collection_names_by_id(collections).values())
    return ", ".join(names) if names else "none"


@register.filter
def collection_name(collection_id: str, backup_collections: list[dict[str, Any]] | None) -> str:
    """One collection of a backup, by the name people read."""
    return rules.collection_names_by_id(backup_collections).get(collection_id, collection_id)


@register.filter
def restored_names(
    collections: list[dict[str, Any]], backup_collections: list[dict[str, Any]] | None = None
) -> str:
    """A restoration's collections by the names its backup gives them (`backup_collections`),
    with where each went when not onto itself."""
    names = rules.collection_names_by_id(backup_collections)
    parts = []
    for entry in collections or []:
        source = entry.get("dataCollectionId") or "?"
        target = (entry.get("restoreDestination") or {}).get("dataCollectionId")
        shown = names.get(source, source)
        parts.append(
            f"{shown} → {names.get(target, target)}" if target and target != source else shown
        )
    return ", ".join(parts) if parts else "all"


@register.filter
def emulator_url(site: Site) -> str:
    """The emulator's data page of a site on the emulator ("" for a site on the real Wix)."""
    base = site.api_base_url.rstrip("/")
    if not base.endswith("/sandbox"):
        return ""
    return f"{base}/sites/{site.wix_site_id}/"


@register.simple_tag
def emulator_collection_url(site: Site, collection_id: str) -> str:
    base = emulator_url(site)
    return f"{base}collections/{quote(collection_id, safe='')}/" if base else ""


@register.simple_tag
def kind_options(kinds: Iterable[tuple[str, str]], selected: str) -> SafeString:
    """The activity filter's options ("Everything", then each kind), `selected` chosen: drawn
    once per process and choice (the kinds are fixed), not at every view of a site's page."""
    return _kind_options(tuple(kinds), selected or "")


@lru_cache(maxsize=64)
def _kind_options(kinds: tuple[tuple[str, str], ...], selected: str) -> SafeString:
    options = ['<option value="">Everything</option>'] + [
        f'<option value="{esc(value)}"{" selected" if value == selected else ""}>{esc(label)}'
        "</option>"
        for value, label in kinds
    ]
    return mark_safe("".join(options))  # noqa: S308 - each part escaped
