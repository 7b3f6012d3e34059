"""Incidents: one open per site and cause, opened once and resolved once, each with its alert.

The opening or resolution and its alert (the outbox row and a delivery per channel) are written
in one transaction: an alert is never lost nor sent for an incident that was not recorded. The
database's partial unique index (one open incident per site and cause) settles any race between
the beat's check, a refresh and a worker finishing an operation. The callers move the site's
version (`states.site_touch`): the pages show open incidents as "needs attention".
"""

import logging
from datetime import datetime

from django.db import IntegrityError, transaction

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


def operation_ended(operation: Operation, *, failed: bool, error: str, now: datetime) -> bool:
    """A failed operation opens its kind's incident; a success of that kind resolves it. True
    when an incident changed (the caller moves the site's version)."""
    cause = rules.CAUSE_OF_OPERATION.get(operation.kind)
    if cause is None:
        return False
    if failed:
        text = rules.failed_operation_words(operation.kind, error)
        return incident_open(operation.site, cause, text, now)
    return incident_resolve(operation.site, cause, now)
