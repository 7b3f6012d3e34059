"""Connecting a site, replacing its key, disconnecting it, rotating the stored secrets.

Credentials are checked live against Wix before anything is kept; nothing is kept on failure.
"""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.views.decorators.debug import sensitive_variables

from wixapi import WixAuthError, WixError, WixNotFound, WixPermissionError

from . import crypto
from .engine import dispatch
from .engine.states import version_up
from .engine.words import owner_message
from .models import Activity, Site
from .wix_clients import BaseUrlNotAllowed, allowed_base_urls, base_url_label, client_for


class ConnectionProblem(Exception):
    """Wix refused or could not check the credentials; the message is for the site owner."""


def credentials_check(*, site: Site) -> None:
    """One live List Backups call with the site's credentials; raise in plain words if refused."""
    try:
        with client_for(site) as client:
            client.list_backups(limit=1)
    except WixAuthError as error:
        raise ConnectionProblem(
            "Wix does not know this API key. Check that it was copied whole."
        ) from error
    except WixPermissionError as error:
        raise ConnectionProblem(
            "Wix refused the key for this site: check the site id, and that the key has the "
            "“Manage Data Backups” permission."
        ) from error
    except WixNotFound as error:
        raise ConnectionProblem("Wix does not know this site id.") from error
    except WixError as error:
        if error.transient:
            raise ConnectionProblem(_unreachable(site.api_base_url)) from error
        raise ConnectionProblem(owner_message(error)) from error
    except BaseUrlNotAllowed as error:
        raise ConnectionProblem(owner_message(error)) from error


def _unreachable(tried: str) -> str:
    """Which API did not answer, and what else may be chosen: offline, real Wix never answers,
    and waiting a minute would not help while the emulator is one choice away."""
    others = [base_url_label(url) for url in allowed_base_urls() if url != tried.rstrip("/")]
    text = f"Could not reach {base_url_label(tried.rstrip('/'))} to check the key."
    if others:
        return f"{text} Under “Wix API” you can also choose {' or '.join(others)}; or try again."
    return f"{text} Try again in a minute."


@sensitive_variables("api_key", "site")
def site_connect(
    *,
    owner: AbstractBaseUser,
    name: str,
    wix_site_id: str,
    api_key: str = "",
    instance_id: str = "",
    api_base_url: str,
    check: bool = True,
) -> Site:
    """Connect a site after checking its credentials against Wix; nothing is kept on failure."""
    # Refused here too (not only by the form's choices and by client_for), so no path, not even
    # `connect_site --skip-check`, stores a site that points the worker at another host.
    if api_base_url.rstrip("/") not in allowed_base_urls():
        raise ConnectionProblem(owner_message(BaseUrlNotAllowed(api_base_url)))
    site = Site(
        owner=owner,
        name=name.strip(),
        wix_site_id=wix_site_id.strip(),
        api_base_url=api_base_url.rstrip("/"),
        auth_kind=Site.APP if instance_id else Site.API_KEY,
        instance_id=instance_id.strip(),
    )
    if api_key:
        site.secret_encrypted = crypto.encrypt(api_key.strip())
        site.secret_hint = api_key.strip()[-4:]
    if check:
        credentials_check(site=site)
    with transaction.atomic():
        site.save()
        Activity.objects.create(
            site=site, actor=owner, outcome=Activity.INFO, message="Connected the site"
        )
    transaction.on_commit(lambda: dispatch.enqueue_refresh(site.pk))
    return site


@sensitive_variables("api_key", "candidate")
def site_replace_key(*, site: Site, api_key: str, user: AbstractBaseUser) -> None:
    """Swap in a new API key after checking it live; the old one stays if the new one fails."""
    candidate = Site(
        pk=site.pk,
        owner=site.owner,
        wix_site_id=site.wix_site_id,
        api_base_url=site.api_base_url,
        auth_kind=Site.API_KEY,
        secret_encrypted=crypto.encrypt(api_key.strip()),
    )
    credentials_check(site=candidate)
    with transaction.atomic():
        Site.objects.filter(pk=site.pk).update(
            auth_kind=Site.API_KEY,
            secret_encrypted=candidate.secret_encrypted,
            secret_hint=api_key.strip()[-4:],
            instance_id="",
            credentials_rejected=False,
            last_sync_error="",
            **version_up(),
        )
        Activity.objects.create(
            site=site, actor=user, outcome=Activity.INFO, message="Replaced the API key"
        )
    transaction.on_commit(lambda: dispatch.enqueue_refresh(site.pk))


def site_disconnect(*, site: Site) -> None:
    """Forget the site here (its key, mirror, operations, activity); nothing changes on Wix."""
    site.delete()


def secrets_rotate() -> int:
    """Re-encrypt every stored secret with the current (first) key; returns how many."""
    count = 0
    for site in Site.objects.exclude(secret_encrypted="").only("pk", "secret_encrypted"):
        Site.objects.filter(pk=site.pk, secret_encrypted=site.secret_encrypted).update(
            secret_encrypted=crypto.rotate(site.secret_encrypted)
        )
        count += 1
    return count
