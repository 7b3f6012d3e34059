"""Incidents: one open per site and cause, opened once and resolved once, each with its alert.

The opening or resolution and its alert (the outbox row and a delivery per channel) are written
in one transaction: an alert is never lost nor sent for an incident that was not recorded. The
database's partial unique index (one open incident per site and cause) settles any race between
the beat's check, a refresh and a worker finishing an operation. The callers move the site's
version (`states.site_touch`): the pages show open incidents as "needs attention".

`Site.incidents_open` says which causes have an open incident, a bit each, set and cleared in
the transaction that opens or resolves one (an atomic `|` and `&`, so two causes changing at
once never undo each other): an operation's success, most of all a backup's, reads it with the
site it already holds and does no incident work while its cause's bit is clear
(bench/scale.py).
"""

import logging
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F

from .. import rules
from ..models import Alert, Incident, Operation, Site
from .outbox import alert_raise

logger = logging.getLogger(__name__)


def incident_open(site: Site, cause: str, text: str, now: datetime) -> bool:
    """Open the site's incident of this cause unless one is open (True when opened now)."""
    if Incident.objects.filter(site_id=site.pk, cause=cause, resolved_at__isnull=True).exists():
        return False
    try:
        with transaction.atomic():
            incident = Incident.objects.create(site=site, cause=cause, text=text, opened_at=now)
            _mark(site, cause, opened=True)
            label = Incident.Cause(cause).label
            alert_raise(
                owner_id=site.owner_id,
                site=site,
                incident=incident,
                kind=Alert.OPENED,
                subject=f"{site.name}: {label}",
                text=f"{site.name}: {text}",
            )
    except IntegrityError:
        return False  # opened by someone else a moment ago: theirs is the one
    logger.info("incident %s (%s) of site %s opened", incident.pk, cause, site.pk)
    return True


def incident_resolve(site: Site, cause: str, now: datetime) -> bool:
    """Resolve the site's open incident of this cause, if any (True when resolved now)."""
    incident = Incident.objects.filter(
        site_id=site.pk, cause=cause, resolved_at__isnull=True
    ).first()
    if incident is None:
        return False
    with transaction.atomic():
        # Compare-and-swap: of two resolvers, one writes the resolution and its alert.
        if not Incident.objects.filter(pk=incident.pk, resolved_at__isnull=True).update(
            resolved_at=now
        ):
            return False
        _mark(site, cause, opened=False)
        label = Incident.Cause(cause).label
        alert_raise(
            owner_id=site.owner_id,
            site=site,
            incident=incident,
            kind=Alert.RESOLVED,
            subject=f"{site.name}: resolved: {label}",
            text=f"{site.name}: resolved: {incident.text}",
        )
    logger.info("incident %s (%s) of site %s resolved", incident.pk, cause, site.pk)
    return True


def _mark(site: Site, cause: str, *, opened: bool) -> None:
    """Set or clear the cause's bit of `Site.incidents_open`, in the caller's transaction, and
    on the caller's copy of the site (a later operation of the same task reads it there)."""
    bit = Incident.cause_bit(cause)
    change = F("incidents_open").bitor(bit) if opened else F("incidents_open").bitand(~bit)
    Site.objects.filter(pk=site.pk).update(incidents_open=change)
    site.incidents_open = site.incidents_open | bit if opened else site.incidents_open & ~bit


def operation_incident(operation: Operation, *, failed: bool) -> str | None:
    """The cause whose incident this operation's end opens or may resolve, if any: a failure's
    cause, or a success's cause while the site (as its caller read it) has one open. None: the
    end does no incident work, so it needs no transaction of its own for it."""
    cause = rules.CAUSE_OF_OPERATION.get(operation.kind)
    if cause is None or failed:
        return cause
    # Read with the site the caller holds, not looked up again: an incident opened since then
    # (another operation of the kind failing meanwhile, which one operation of a kind at a time
    # per site rules out for snapshots and restores) is resolved by the kind's next success.
    return cause if operation.site.incidents_open & Incident.cause_bit(cause) else None


def operation_ended(operation: Operation, *, failed: bool, error: str, now: datetime) -> bool:
    """A failed operation opens its kind's incident; a success of that kind resolves it. True
    when an incident changed (the caller moves the site's version)."""
    cause = operation_incident(operation, failed=failed)
    if cause is None:
        return False
    if failed:
        text = rules.failed_operation_words(operation.kind, error)
        return incident_open(operation.site, cause, text, now)
    return incident_resolve(operation.site, cause, now)
