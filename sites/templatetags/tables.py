"""The rows of a site's tables, drawn in Python: one tag call per table instead of ~30 template
lookups per row.

A site's page draws its tables at every view (nothing drawn is kept: a row carries what the
person looking may do), so their cost is the page's cost (bench/page_speed.py). The HTML is the
same the template wrote; every value from Wix or the owner goes through `escape`.
"""

from collections.abc import Iterable
from typing import Any

from django import template
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from sites.models import Activity, Site

from .wbm import NO_TIME, backup_type, badge, collection_names, local, restored_names, when

register = template.Library()

# Stands in for ids while a URL is reversed once per table; ids are then put in by replacing it.
_SLOT = "00000000-0000-0000-0000-00000000d1d0"
OUTCOME_NAMES = dict(Activity.OUTCOMES)


def _url_maker(name: str, site: Site) -> Any:
    pattern = reverse(name, args=[site.pk, _SLOT])
    return lambda ident: pattern.replace(_SLOT, escape(str(ident)))


def _or_dash(value: Any, draw: Any) -> str:
    return draw(value) if value is not None else NO_TIME


@register.simple_tag
def backup_rows(site: Site, rows: Iterable[Any]) -> SafeString:
    restore_url = _url_maker("sites:restore", site)
    delete_url = _url_maker("sites:delete", site)
    out = []
    for row in rows:
        backup = row.backup
        wid = escape(backup.wix_id)
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
        if row.same_reason:
            actions.append(
                f'<div class="muted small" id="why-r-{wid}">{escape(row.same_reason)}</div>'
            )
        else:
            if row.restore_blocked:
                actions.append(
                    f'<div class="muted small" id="why-r-{wid}">{escape(row.restore_blocked)}</div>'
                )
            if row.delete_blocked:
                actions.append(
                    f'<div class="muted small" id="why-d-{wid}">{escape(row.delete_blocked)}</div>'
                )
        size = (
            escape(_file_size(backup.size_in_bytes))
            if backup.size_in_bytes is not None
            else NO_TIME
        )
        out.append(
            f'<tr data-backup="{wid}" class="status-{escape(status.lower())}">'
            f'<td id="b-{wid}">{when(backup.requested_at)}</td>'
            f'<td class="nowrap">{escape(backup_type(backup.type))}</td>'
            f"<td data-status>{badge(status)}</td>"
            f"<td>{_or_dash(backup.finished_at, when)}</td>"
            f"<td>{size}</td>"
            f"<td>{escape(collection_names(backup.collections))}</td>"
            f'<td class="actions">{"".join(actions)}</td>'
            "</tr>"
        )
    return mark_safe("\n".join(out))  # noqa: S308 - built from escaped parts above


@register.simple_tag
def restoration_rows(rows: Iterable[Any]) -> SafeString:
    out = []
    for row in rows:
        restoration = row.restoration
        if row.backup is not None:
            source = escape(f"{backup_type(row.backup.type)}, {local(row.backup.requested_at)}")
        else:
            source = '<span class="muted">no longer listed</span>'
        out.append(
            f'<tr data-restoration="{escape(restoration.wix_id)}">'
            f"<td>{when(restoration.requested_at)}</td>"
            f"<td data-status>{badge(restoration.status)}</td>"
            f"<td>{source}</td>"
            f"<td>{escape(restored_names(restoration.restoration_collections))}</td>"
            f"<td>{_or_dash(restoration.finished_at, when)}</td>"
            "</tr>"
        )
    return mark_safe("\n".join(out))  # noqa: S308 - built from escaped parts above


@register.simple_tag
def activity_rows(site: Site, entries: Iterable[Activity]) -> SafeString:
    operation_url = _url_maker("sites:operation", site)
    out = []
    for entry in entries:
        # `actor_name` is read with the row (pages/site.py), so no user row is loaded per entry.
        name = getattr(entry, "actor_name", None)
        who = escape(name) if name else '<span class="muted">automatic</span>'

        what = escape(entry.message)
        if entry.backup_at:
            what += escape(f" of {local(entry.backup_at)}")
        if entry.detail:
            what += escape(f": {entry.detail}")
        outcome = ""
        if entry.outcome != Activity.INFO:
            outcome = (
                f'<span class="outcome outcome-{escape(entry.outcome)}">'
                f"{escape(OUTCOME_NAMES.get(entry.outcome, entry.outcome))}</span>"
            )
        if entry.operation_id:
            outcome += f' <a class="small" href="{operation_url(entry.operation_id)}">details</a>'
        out.append(
            f"<tr><td>{when(entry.created_at)}</td><td>{who}</td><td>{what}</td>"
            f"<td>{outcome}</td></tr>"
        )
    return mark_safe("\n".join(out))  # noqa: S308 - built from escaped parts above


def _file_size(size: int) -> str:
    return str(filesizeformat(size))
