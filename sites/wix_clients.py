"""The one place that turns a Site into a Wix client (base URL allow-list, credentials)."""

import ipaddress
import os
import socket
import threading
import time
from collections.abc import Iterable
from http.cookiejar import DefaultCookiePolicy
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.cache import cache
from django.views.decorators.debug import sensitive_variables

from wixapi import ApiKeyAuth, AppOAuth, WixBackupsClient, WixDataClient

from . import crypto
from .models import Site


class BaseUrlNotAllowed(Exception):
    """A site's API base URL is not in WIX_ALLOWED_BASE_URLS (no calls to arbitrary hosts)."""


def allowed_base_urls() -> list[str]:
    return [url.rstrip("/") for url in settings.WIX_ALLOWED_BASE_URLS]


def outbound_url_refusal(url: str, *, listed: Iterable[str] | None = None) -> str:
    """Why the product must not send a request to `url` ("" when it may): the one rule against
    request forgery for every outbound call.

    `listed`: the operator's allow-list (the Wix base URLs): only those exact URLs. Without one (a
    webhook an owner typed), any http(s) URL whose host resolves only to public addresses, unless
    WBM_WEBHOOK_ALLOW_PRIVATE (development, tests) lets loopback and private ones through too.
    """
    url = url.strip()
    if listed is not None:
        if url.rstrip("/") not in [u.rstrip("/") for u in listed]:
            return f"{url} is not an allowed address."
        return ""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "This is not a valid URL."
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "Only http:// and https:// URLs are allowed."
    if parts.username or parts.password:
        return "A URL with a user name or password in it is not allowed."
    if settings.WBM_WEBHOOK_ALLOW_PRIVATE:
        return ""
    try:
        found = socket.getaddrinfo(parts.hostname, port or 443, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return f"The host {parts.hostname} could not be found."
    for *_, address in found:
        ip = ipaddress.ip_address(address[0])
        if not ip.is_global or ip.is_multicast:
            return (
                f"The host {parts.hostname} is a local or private address, "
                "which this installation does not send to."
            )
    return ""


def base_url_label(url: str) -> str:
    """An API base URL as people read it (the connect form's choices, its errors)."""
    if url.endswith("/sandbox"):
        return f"Wix emulator ({url})"
    if url == "https://www.wixapis.com":
        return "Wix (www.wixapis.com)"
    return url


def default_base_url() -> str | None:
    """The connect form's first choice: the emulator while it runs here (the demo, where real
    Wix is usually not what the person means, and often unreachable), else the first allowed."""
    urls = allowed_base_urls()
    emulator = settings.WIXEMULATOR_BASE_URL.rstrip("/")
    if settings.WIXEMULATOR_ENABLED and emulator in urls:
        return emulator
    return urls[0] if urls else None


# A kept connection idle longer than this is dropped before the next call rather than reused: a
# server may close an idle connection just as a request goes out on it, and for a create that
# looks like a lost answer (engine/landing.py). Wix's front ends keep idle connections longer.
_IDLE_SECONDS = 15.0

_local = threading.local()


def _shared_session(base_url: str) -> requests.Session:
    """This process's (and thread's) HTTP session for one API host, reused from task to task.

    What it saves per call (bench/scale.py): a TLS handshake against Wix, and requests reading
    the whole environment for proxy and CA settings, which it does at every request otherwise;
    here they are read once. It keeps no cookies, so nothing of one site's answers reaches the
    next site's requests.
    """
    pid = os.getpid()
    if getattr(_local, "pid", None) != pid:  # a forked worker child starts with its own
        _local.pid, _local.sessions = pid, {}
    now = time.monotonic()
    session, last_used = _local.sessions.get(base_url, (None, 0.0))
    if session is not None and now - last_used > _IDLE_SECONDS:
        session.close()  # closes the idle connections only; the settings stay
    if session is None:
        session = requests.Session()
        session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        found = session.merge_environment_settings(base_url, {}, None, None, None)
        session.proxies.update(found["proxies"])
        session.verify, session.cert = found["verify"], found["cert"]
        session.trust_env = False
    _local.sessions[base_url] = (session, now)
    return session


@sensitive_variables("auth")
def _auth_for(site: Site) -> tuple[str, ApiKeyAuth | AppOAuth]:
    """The site's base URL, checked against the allow-list, and its credentials."""
    base_url = site.api_base_url.rstrip("/")
    if outbound_url_refusal(base_url, listed=allowed_base_urls()):
        raise BaseUrlNotAllowed(f"{base_url} is not an allowed Wix API base URL")
    if site.auth_kind == Site.APP:
        auth: ApiKeyAuth | AppOAuth = AppOAuth(
            app_id=settings.WIX_APP_ID,
            app_secret=settings.WIX_APP_SECRET,
            instance_id=site.instance_id,
            # Django's cache (Redis in production) shares tokens between all worker processes.
            token_cache=cache,
        )
    else:
        auth = ApiKeyAuth(api_key=crypto.decrypt(site.secret_encrypted), site_id=site.wix_site_id)
    return base_url, auth


@sensitive_variables("auth")
def client_for(site: Site) -> WixBackupsClient:
    base_url, auth = _auth_for(site)
    connect, read = settings.WIX_TIMEOUT
    # No retries inside the client: a task never sleeps; the engine reschedules instead.
    return WixBackupsClient(
        base_url,
        auth,
        session=_shared_session(base_url),
        connect_timeout=connect,
        read_timeout=read,
        max_retries=0,
    )


# Retries of a read inside a snapshot: a snapshot task runs for minutes on a queue of its own,
# so a short wait there delays no status poll, and it saves going back through the sweeper for
# one lost page. Longer outages end the attempt; the engine resumes it later (states.backoff).
DATA_READ_RETRIES = 2
DATA_RETRY_AFTER_MAX = 10.0


@sensitive_variables("auth")
def data_client_for(site: Site) -> WixDataClient:
    """The site's Data Items and Data Collections client: the same allow-list, credentials,
    shared session and timeouts as `client_for`; reads (queries, counts, lists) are retried a
    little as wixapi retries reads (5xx, timeouts, 429 with Retry-After), writes never."""
    base_url, auth = _auth_for(site)
    connect, read = settings.WIX_TIMEOUT
    return WixDataClient(
        base_url,
        auth,
        session=_shared_session(base_url),
        connect_timeout=connect,
        read_timeout=read,
        max_retries=DATA_READ_RETRIES,
        backoff_max=5.0,
        max_retry_after=DATA_RETRY_AFTER_MAX,
    )
