"""The rows of a site's tables, drawn in Python: one tag call per table instead of ~30 template
lookups per row.

A site's page draws its tables at every view (nothing drawn is kept: a row carries what the
person looking may do), so their cost is the page's cost (bench/page_speed.py). The HTML is the
same the template wrote; every value from Wix or the owner goes through `esc`.
"""

from collections.abc import Iterable
from datetime import datetime, tzinfo
from typing import Any

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from sites import rules
from sites.models import Activity, Site

from .wbm import (
    NO_TIME,
    backup_time_in,
    backup_type,
    badge,
    collection_names,
    esc,
    op_badge,
    restored_names,
    time_in,
)

register = template.Library()

# Stands in for ids while a URL is reversed once per table; ids are then put in by replacing it.
_SLOT = "00000000-0000-0000-0000-00000000d1d0"
OUTCOME_NAMES = dict(Activity.OUTCOMES)


def _url_maker(name: str, site: Site | None) -> Any:
    """A URL of `name` for each id, reversed once: of the site's `ident` (or, without a site, of
    the site `ident`)."""
    pattern = reverse(name, args=[site.pk, _SLOT] if site is not None else [_SLOT])
    return lambda ident: pattern.replace(_SLOT, esc(str(ident)))


def _time_or_dash(value: datetime | None, zone: tzinfo) -> str:
    return time_in(value, zone) if value is not None else NO_TIME


@register.simple_tag(takes_context=True)
def backup_rows(context: Any, site: Site, rows: Iterable[Any]) -> SafeString:
    restore_url = _url_maker("sites:restore", site)
    delete_url = _url_maker("sites:delete", site)
    download_url = _url_maker("sites:snapshot_download", site)
    pin_url = _url_maker("sites:backup_pin", site)
    token = esc(context.get("csrf_token", ""))
    csrf = f'<input type="hidden" name="csrfmiddlewaretoken" value="{token}">'
    zone = timezone.get_current_timezone()  # once per table, not per date
    out = []
    for row in rows:
        backup = row.backup
        wid = esc(backup.wix_id)
        status = backup.status or ""
        actions = []
        if row.can_restore:
            actions.append(
                f'<a class="button" href="{restore_url(backup.wix_id)}" '
                f'aria-describedby="b-{wid}">Restore</a>'
            )
        elif row.restore_blocked:
            actions.append(
                f'<button type="button" disabled aria-describedby="b-{wid} why-r-{wid}">'
                "Restore</button>"
            )
        if row.can_delete:
            actions.append(
                f'<a class="button secondary" href="{delete_url(backup.wix_id)}" '
                f'aria-describedby="b-{wid}">Delete</a>'
            )
        elif row.delete_blocked:
            why = "r" if row.same_reason else "d"
            actions.append(
                f'<button type="button" class="secondary" disabled '
                f'aria-describedby="b-{wid} why-{why}-{wid}">Delete</button>'
            )
        pin = row.actions.pin_refusal
        if row.actions.pinned:
            actions.append(
                f'<form method="post" action="{pin_url(backup.wix_id)}" class="inline">{csrf}'
                '<input type="hidden" name="pinned" value="0">'
                f'<button type="submit" class="secondary" aria-describedby="b-{wid}">Unpin'
                "</button></form>"
            )
        elif pin == "":
            actions.append(
                f'<form method="post" action="{pin_url(backup.wix_id)}" class="inline">{csrf}'
                '<input type="hidden" name="pinned" value="1">'
                f'<button type="submit" class="secondary" aria-describedby="b-{wid}" '
                'title="Keep this one: a new backup never makes Wix delete it">Pin</button></form>'
            )
        elif pin:
            actions.append(
                f'<button type="button" class="secondary" disabled '
                f'aria-describedby="b-{wid} why-p-{wid}">Pin</button>'
                f'<div class="muted small" id="why-p-{wid}">{esc(pin)}</div>'
            )
        if row.same_reason:
            actions.append(
                f'<div class="muted small" id="why-r-{wid}">{esc(row.same_reason)}</div>'
            )
        else:
            if row.restore_blocked:
                actions.append(
                    f'<div class="muted small" id="why-r-{wid}">{esc(row.restore_blocked)}</div>'
                )
            if row.delete_blocked:
                actions.append(
                    f'<div class="muted small" id="why-d-{wid}">{esc(row.delete_blocked)}</div>'
                )
        pinned = (
            ' <span class="badge pinned" data-pinned>pinned</span>' if row.actions.pinned else ""
        )
        size = (
            esc(_file_size(backup.size_in_bytes)) if backup.size_in_bytes is not None else NO_TIME
        )
        out.append(
            f'<tr data-backup="{wid}" class="status-{esc(status.lower())}">'
            f'<td id="b-{wid}">{time_in(backup.requested_at, zone, backup=True)}'
            f"{pinned}</td>"
            f'<td class="nowrap">{esc(backup_type(backup.type))}</td>'
            f"<td data-status>{badge(status)}</td>"
            f"<td>{_time_or_dash(backup.finished_at, zone)}</td>"
            f"<td>{size}</td>"
            f"<td>{esc(collection_names(backup.collections))}</td>"
            f"<td data-snapshot-cell>{_snapshot_cell(row, download_url)}</td>"
            f'<td class="actions">{"".join(actions)}</td>'
            "</tr>"
        )
    return mark_safe("\n".join(out))  # noqa: S308 - built from escaped parts above


def _snapshot_cell(row: Any, download_url: Any) -> str:
    """The backup's snapshot in its row: what it holds and its download, its progress while it
    is taken, or why it holds nothing (rules.snapshot_use_refusal, as the Snapshots table)."""
    snapshot = row.snapshot
    if snapshot is None:
        return NO_TIME
    if snapshot.state == "running":
        return f'<span class="muted" data-progress>{esc(snapshot.progress)}</span>'
    if row.snapshot_refusal:
        why = esc(row.snapshot_refusal)
        return f'<span class="badge badge-snapshot-failed" title="{why}">Snapshot failed</span>'
    return (
        f'<a href="{download_url(snapshot.id)}" download>Download</a> '
        f'<span class="muted small">{esc(snapshot.holds)}</span>'
    )


@register.simple_tag
def restoration_rows(rows: Iterable[Any]) -> SafeString:
    zone = timezone.get_current_timezone()  # once per table, not per date
    out = []
    for row in rows:
        restoration = row.restoration
        names = row.backup.collections if row.backup is not None else None
        if row.backup is not None:
            source = esc(
                f"{backup_type(row.backup.type)}, {backup_time_in(row.backup.requested_at, zone)}"
            )
        else:
            source = '<span class="muted">no longer listed</span>'
        out.append(
            f'<tr data-restoration="{esc(restoration.wix_id)}">'
            f"<td>{time_in(restoration.requested_at, zone)}</td>"
            f"<td data-status>{badge(restoration.status)}</td>"
            f"<td>{source}</td>"
            f"<td>{esc(restored_names(restoration.restoration_collections, names))}</td>"
            f"<td>{_time_or_dash(restoration.finished_at, zone)}</td>"
            "</tr>"
        )
    return mark_safe("\n".join(out))  # noqa: S308 - built from escaped parts above


@register.simple_tag
def activity_rows(site: Site, entries: Iterable[Activity]) -> SafeString:
    operation_url = _url_maker("sites:operation", site)
    zone = timezone.get_current_timezone()  # once per table, not per date
    out = []
    for entry in entries:
        # `actor_name` is read with the row (pages/site.py), so no user row is loaded per entry.
        name = getattr(entry, "actor_name", None)
        via = getattr(entry, "via", "")
        who = esc(name) if name else f'<span class="muted">{esc(via or "automatic")}</span>'

        what = esc(entry.message)
        if entry.backup_at:
            what += esc(f" of {backup_time_in(entry.backup_at, zone)}")
        if entry.detail:
            what += esc(f": {entry.detail}")
        outcome = ""
        if entry.outcome != Activity.INFO:
            outcome = (
                f'<span class="outcome outcome-{esc(entry.outcome)}">'
                f"{esc(OUTCOME_NAMES.get(entry.outcome, entry.outcome))}</span>"
            )
        if entry.operation_id:
            outcome += f' <a class="small" href="{operation_url(entry.operation_id)}">details</a>'
        out.append(
            f"<tr><td>{time_in(entry.created_at, zone)}</td><td>{who}</td><td>{what}</td>"
            f"<td>{outcome}</td></tr>"
        )
    return mark_safe("\n".join(out))  # noqa: S308 - built from escaped parts above


_UNITS = ((1 << 50, "PB"), (1 << 40, "TB"), (1 << 30, "GB"), (1 << 20, "MB"), (1 << 10, "KB"))


def _file_size(size: int) -> str:
    """What Django's filesizeformat writes in English ("1.5\xa0MB", "12\xa0bytes"), without its
    translation and number-format lookups: a fifth of a backups table's drawing otherwise."""
    sign, size = ("-", -size) if size < 0 else ("", size)
    for unit, name in _UNITS:
        if size >= unit:
            return f"{sign}{round(size / unit, 1):.1f}\xa0{name}"
    return f"{sign}{size}\xa0{'byte' if size == 1 else 'bytes'}"


@register.simple_tag(takes_context=True)
def dashboard_rows(context: Any, rows: Iterable[Any], slots: int) -> SafeString:
    """The dashboard's rows: one per site (pages/dashboard.py), drawn like the tables above."""
    site_url = _url_maker("sites:site", None)
    key_url = _url_maker("sites:replace_key", None)
    backup_url = _url_maker("sites:backup_now", None)
    token = esc(context.get("csrf_token", ""))
    csrf = f'<input type="hidden" name="csrfmiddlewaretoken" value="{token}">'
    none = '<span class="muted">none</span>'
    zone = timezone.get_current_timezone()  # once per table, not per date
    out = []
    for row in rows:
        site = row.site
        running = "".join(
            f'<div data-running="{op.pk}">{esc(op.get_kind_display())} {op_badge(op)}</div>'
            for op in row.running
        )
        # Wix's own work (an automatic backup, a restore begun in Wix's screens) beside ours,
        # each piece of work once.
        backups, restorations = rules.wix_work_unasked(
            site.pending_backups, site.pending_restorations, row.running
        )
        if backups:
            plural = "" if backups == 1 else "s"
            running += f"<div>{backups} backup{plural} being made {badge('PENDING')}</div>"
        if restorations:
            running += f"<div>A restore is running {badge('PENDING')}</div>"
        if not running:
            running = '<span class="muted">Nothing</span>'
        attention = (
            "".join(
                f'<div class="attention">⚠ {esc(item.text)}'
                + (
                    f' <a href="{key_url(site.pk)}">Replace the key</a>'
                    if item.kind == "key"
                    else ""
                )
                + "</div>"
                for item in row.attention
            )
            or '<span class="muted">All good</span>'
        )
        newest_auto, newest_on_demand = site.newest_auto_at, site.newest_on_demand_at
        auto = time_in(newest_auto, zone, backup=True) if newest_auto else none
        on_demand = time_in(newest_on_demand, zone, backup=True) if newest_on_demand else none
        out.append(
            f'<tr data-site="{site.pk}">'
            f'<th scope="row"><a href="{site_url(site.pk)}">{esc(site.name)}</a></th>'
            f"<td><div>Automatic: {auto}</div><div>On demand: {on_demand}</div></td>"
            f"<td data-slots>{site.slots_used} of {slots}</td>"
            f"<td>{running}</td>"
            f"<td>{attention}</td>"
            f"<td data-next-backup>{esc(row.next_backup)}</td>"
            f'<td><form method="post" action="{backup_url(site.pk)}">{csrf}'
            '<button type="submit" class="secondary">Back up now</button></form></td>'
            "</tr>"
        )
    return mark_safe("\n".join(out))  # noqa: S308 - built from escaped parts above


@register.simple_tag
def preview_item_rows(items_url: str, changes: Iterable[Any]) -> SafeString:
    """The items of a restore preview's list (pages/preview.py ListedChange), each with its tick
    box and the link to its difference (`items_url` + the change's id): one tag call for the
    page's 50 rather than ~10 template lookups each."""
    base = esc(items_url)
    out = []
    for change in changes:
        pk = int(change.pk)  # our own id: digits only
        item = esc(change.item_id)
        out.append(
            f'<li data-item="{item}"><input type="checkbox" name="change" value="{pk}" '
            f'id="tick-{pk}" aria-label="Tick {item}"> <a href="{base}{pk}/">{item}</a></li>'
        )
    return mark_safe("\n".join(out))  # noqa: S308 - built from escaped parts above
