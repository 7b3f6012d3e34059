"""The Alerts page: the owner's channels, open incidents, recent alerts with how each delivery
went, and each site's expected backup age; and the demo mailbox (staff, `make run`)."""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Prefetch

from .. import access, rules
from ..models import Alert, AlertChannel, AlertDelivery, Incident, MailboxMessage, Site

# Recent alerts shown (the outbox keeps every one; older ones are history nobody pages through).
RECENT_ALERTS = 20
MAILBOX_SHOWN = 50


@dataclass
class SiteAge:
    site: Site
    days: int


@dataclass
class AlertsPage:
    channels: list[AlertChannel]
    incidents: list[Incident]
    alerts: list[Alert]
    sites: list[SiteAge]


def alerts_page(*, owner: AbstractBaseUser) -> AlertsPage:
    """A fixed handful of queries whatever the number of alerts and channels."""
    sites = list(access.visible_sites(owner))
    incidents = list(
        Incident.objects.filter(site__in=[s.pk for s in sites], resolved_at__isnull=True)
        .select_related("site")
        .order_by("-opened_at")
    )
    alerts = list(
        Alert.objects.filter(owner_id=owner.pk)
        .select_related("site")
        .prefetch_related(
            Prefetch(
                "deliveries",
                queryset=AlertDelivery.objects.select_related("channel").order_by(
                    "channel__created_at"
                ),
            )
        )
        .order_by("-created_at")[:RECENT_ALERTS]
    )
    return AlertsPage(
        channels=list(AlertChannel.objects.filter(owner_id=owner.pk)),
        incidents=incidents,
        alerts=alerts,
        sites=[SiteAge(site, rules.expected_backup_age(site).days) for site in sites],
    )


def mailbox_enabled() -> bool:
    """The mailbox page exists only while e-mail goes to it (never in a deployment sending SMTP)."""
    return settings.EMAIL_BACKEND == "sites.mailbox.MailboxBackend"


def mailbox_messages() -> list[MailboxMessage]:
    return list(MailboxMessage.objects.order_by("-sent_at")[:MAILBOX_SHOWN])
