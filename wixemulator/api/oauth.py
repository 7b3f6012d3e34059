"""Wix's OAuth token endpoint (app client credentials) and the API's catch-all 404."""

import secrets
import uuid
from datetime import timedelta

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from ..models import EmuApp, EmuSite, EmuToken
from ..services import EmuApiError, invalid
from .params import body as read_body
from .pipeline import LOG_RETENTION, error_response, json_response, request_id


@csrf_exempt
def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    rid = request_id()
    return error_response(EmuApiError(404, "No such API path", code="NOT_FOUND"), rid)


@csrf_exempt
def oauth_token(request: HttpRequest) -> HttpResponse:
    """Client-credentials grant of a Wix app installed on a site."""
    rid = request_id()
    try:
        if request.method != "POST":
            raise EmuApiError(405, "Use POST", code="METHOD_NOT_ALLOWED", headers={"Allow": "POST"})
        body = read_body(request)
        if body.get("grant_type") != "client_credentials":
            raise invalid("grant_type", "must be client_credentials", "VALID_ENUM")
        fields = {}
        for name in ("client_id", "client_secret", "instance_id"):
            value = body.get(name)
            if not isinstance(value, str) or not value:
                raise invalid(name, "is required", "REQUIRED_FIELD")
            fields[name] = value
        try:
            app_id = uuid.UUID(fields["client_id"])
            instance_id = uuid.UUID(fields["instance_id"])
        except ValueError as error:
            raise invalid("client_id", "and instance_id must be GUIDs", "FORMAT") from error
        app = EmuApp.objects.filter(app_id=app_id).first()
        if app is None or not secrets.compare_digest(app.app_secret, fields["client_secret"]):
            raise EmuApiError(401, "Invalid app credentials", code="UNAUTHENTICATED")
        site = EmuSite.objects.filter(instance_id=instance_id, app=app).first()
        if site is None:
            raise EmuApiError(
                403, "The app is not installed on this instance", code="PERMISSION_DENIED"
            )
        lifetime = settings.WIXEMULATOR_TOKEN_SECONDS
        token = EmuToken.objects.create(
            token="OAUTH2." + secrets.token_urlsafe(48),
            site=site,
            expires_at=timezone.now() + timedelta(seconds=lifetime),
        )
        # Long-expired tokens are forgotten (then 401 "unknown"); recent ones still say "expired".
        EmuToken.objects.filter(site=site, expires_at__lt=timezone.now() - LOG_RETENTION).delete()
        return json_response(
            200,
            {"access_token": token.token, "token_type": "Bearer", "expires_in": lifetime},
            rid,
        )
    except EmuApiError as error:
        return error_response(error, rid)
