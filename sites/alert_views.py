"""The Alerts page as thin views: channels (add, send a test, remove), each site's expected
backup age, and the demo mailbox. What they show is `pages/alerts.py`; writes go to the engine."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_http_methods

from . import access, engine, pages
from .alert_forms import EmailChannelForm, ExpectedAgeForm, WebhookChannelForm
from .models import AlertChannel
from .snapshot_views import _posted_only
from .views import _render, _site_for


def _page(request: HttpRequest, status: int = 200, **context: Any) -> HttpResponse:
    context.setdefault("email_form", EmailChannelForm())
    context.setdefault("webhook_form", WebhookChannelForm())
    context["mailbox"] = request.user.is_staff and pages.mailbox_enabled()
    page = pages.alerts_page(owner=request.user)
    answer = _render(request, "sites/alerts.html", {"page": page, **context}, status=status)
    if "new_secret" in context:
        answer["Cache-Control"] = "no-store"  # the secret is shown once: never kept by a cache
    return answer


@login_required
@require_http_methods(["GET", "POST"])
def alerts(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _page(request)
    kind = request.POST.get("kind")
    if kind == AlertChannel.EMAIL:
        form = EmailChannelForm(request.POST)
        if not form.is_valid():
            return _page(request, 400, email_form=form)
        try:
            channel = engine.channel_add_email(
                owner=request.user, address=form.cleaned_data["address"]
            )
        except engine.ChannelRefused as refused:
            form.add_error("address", str(refused))
            return _page(request, 400, email_form=form)
        messages.success(request, f"Alerts will be e-mailed to {channel.target}.")
        return redirect("sites:alerts")
    if kind == AlertChannel.WEBHOOK:
        form = WebhookChannelForm(request.POST)
        if not form.is_valid():
            return _page(request, 400, webhook_form=form)
        try:
            channel, secret = engine.channel_add_webhook(
                owner=request.user, url=form.cleaned_data["url"]
            )
        except engine.ChannelRefused as refused:
            form.add_error("url", str(refused))
            return _page(request, 400, webhook_form=form)
        # Shown in this answer only; a reload or any later page shows no more than the URL.
        return _page(request, new_secret=secret, new_channel=channel)
    return _page(request, 400, problem="Choose e-mail or webhook.")


@login_required
def channel_test(request: HttpRequest, channel_id: Any) -> HttpResponse:
    channel = access.channel_of(request.user, channel_id)
    if refused := _posted_only(request):
        return refused
    engine.alert_test(owner_id=request.user.pk, channel_id=channel.pk)
    messages.success(
        request, f"A test alert is on its way to {channel.shown_target}; see how it went below."
    )
    return redirect("sites:alerts")


@login_required
def channel_delete(request: HttpRequest, channel_id: Any) -> HttpResponse:
    channel = access.channel_of(request.user, channel_id)
    if refused := _posted_only(request):
        return refused
    engine.channel_remove(channel)
    messages.success(request, f"Removed {channel.shown_target}: it gets no more alerts.")
    return redirect("sites:alerts")


@login_required
def site_expected_age(request: HttpRequest, site_id: Any) -> HttpResponse:
    site = _site_for(request, site_id, change=True)
    if refused := _posted_only(request):
        return refused
    form = ExpectedAgeForm(request.POST)
    if not form.is_valid():
        return _page(request, 400, age_errors={str(site.pk): form.errors["days"]})
    engine.site_expected_age_set(site, days=form.cleaned_data["days"])
    messages.success(
        request, f"{site.name}: a backup is now expected every {site.stale_after_days} days."
    )
    return redirect("sites:alerts")


@login_required
@require_GET
def mailbox(request: HttpRequest) -> HttpResponse:
    """What the mailbox backend kept (`make run`): staff only, and only while it is the backend."""
    if not (request.user.is_staff and pages.mailbox_enabled()):
        raise Http404
    return _render(request, "sites/mailbox.html", {"mails": pages.mailbox_messages()})
