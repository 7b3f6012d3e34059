"""The one place that turns a Site into a Wix client (base URL allow-list, credentials)."""

from django.conf import settings
from django.core.cache import cache
from django.views.decorators.debug import sensitive_variables

from wixapi import ApiKeyAuth, AppOAuth, WixBackupsClient

from . import crypto
from .models import Site


class BaseUrlNotAllowed(Exception):
    """A site's API base URL is not in WIX_ALLOWED_BASE_URLS (no calls to arbitrary hosts)."""


def allowed_base_urls() -> list[str]:
    return [url.rstrip("/") for url in settings.WIX_ALLOWED_BASE_URLS]


@sensitive_variables("auth")
def client_for(site: Site) -> WixBackupsClient:
    base_url = site.api_base_url.rstrip("/")
    if base_url not in allowed_base_urls():
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
    connect, read = settings.WIX_TIMEOUT
    # No retries inside the client: a task never sleeps; the engine reschedules instead.
    return WixBackupsClient(
        base_url, auth, connect_timeout=connect, read_timeout=read, max_retries=0
    )
