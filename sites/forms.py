"""Forms of the owner's pages. They check input only; what Wix thinks is the engine's business."""

import uuid
import zoneinfo
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.models import AbstractBaseUser
from django.core.validators import RegexValidator

from .models import Backup, Operation, Site
from .wix_clients import allowed_base_urls, base_url_label, default_base_url

# Wix keys are long opaque ASCII strings; anything else (spaces, line breaks, curly quotes from a
# copy out of a document) would only fail later, in an HTTP header.
_key_shape = RegexValidator(
    r"^[\x21-\x7e]+$",
    "An API key has no spaces or special characters: copy it again from Wix.",
)


def api_key_field(label: str = "API key", **kwargs: Any) -> forms.CharField:
    """A key field that never sends the key back to the browser (render_value=False)."""
    return forms.CharField(
        label=label,
        max_length=4096,
        validators=[_key_shape],
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=(
            "Wix: Account Settings > API Keys, with the “Manage Data Backups” permission. "
            "We store it encrypted and never show it again (only its last 4 characters)."
        ),
        **kwargs,
    )


class PlainLabels:
    """Labels as written ("Wix site id"), without the colon Django adds to each: every form of
    the product's pages is one of these."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class SignInForm(PlainLabels, AuthenticationForm):
    pass


class PasswordChangeForm(PlainLabels, auth_forms.PasswordChangeForm):
    pass


def _uuid_text(value: str, message: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError as error:
        raise forms.ValidationError(message) from error


def app_connection_available() -> bool:
    return bool(settings.WIX_APP_ID and settings.WIX_APP_SECRET)


class ConnectForm(PlainLabels, forms.Form):
    name = forms.CharField(max_length=100, help_text="What you call the site here.")
    wix_site_id = forms.CharField(
        label="Wix site id",
        max_length=64,
        help_text="The id in your site's dashboard address, after manage.wix.com/dashboard/.",
    )
    auth = forms.ChoiceField(
        label="Connect with",
        choices=[(Site.API_KEY, "An API key"), (Site.APP, "The Wix app (app instance id)")],
        initial=Site.API_KEY,
        widget=forms.RadioSelect,
    )
    api_key = api_key_field(required=False)
    instance_id = forms.CharField(label="App instance id", max_length=64, required=False)
    api_base_url = forms.ChoiceField(label="Wix API")

    def __init__(self, *args: Any, owner: AbstractBaseUser, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.owner = owner
        urls = allowed_base_urls()
        self.fields["api_base_url"].choices = [(url, base_url_label(url)) for url in urls]
        self.fields["api_base_url"].initial = default_base_url()
        if not app_connection_available():
            # Without the app's OAuth credentials an instance id cannot work: do not offer it.
            del self.fields["auth"]
            del self.fields["instance_id"]

    def clean_name(self) -> str:
        return self.cleaned_data["name"].strip()

    def clean_wix_site_id(self) -> str:
        site_id = _uuid_text(
            self.cleaned_data["wix_site_id"].strip(),
            "A Wix site id looks like 1a2b3c4d-1234-5678-9abc-1a2b3c4d5e6f.",
        )
        existing = Site.objects.filter(owner=self.owner, wix_site_id=site_id).first()
        if existing is not None:
            raise forms.ValidationError(f"You have already connected this site (as “{existing}”).")
        return site_id

    def clean_instance_id(self) -> str:
        value = self.cleaned_data["instance_id"].strip()
        if not value:
            return ""
        return _uuid_text(value, "An app instance id looks like 1a2b3c4d-1234-5678-9abc-….")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("auth", Site.API_KEY) == Site.APP:
            if not data.get("instance_id") and "instance_id" not in self.errors:
                self.add_error("instance_id", "Enter the app instance id.")
        elif not data.get("api_key") and "api_key" not in self.errors:
            self.add_error("api_key", "Paste the site's API key.")
        return data

    def connect_kwargs(self) -> dict[str, str]:
        """The arguments of connections.site_connect (one kind of credential only)."""
        data = self.cleaned_data
        by_app = data.get("auth") == Site.APP
        return {
            "name": data["name"],
            "wix_site_id": data["wix_site_id"],
            "api_key": "" if by_app else data["api_key"],
            "instance_id": data["instance_id"] if by_app else "",
            "api_base_url": data["api_base_url"],
        }


class ReplaceKeyForm(PlainLabels, forms.Form):
    api_key = api_key_field(label="New API key")


class BackupNowForm(PlainLabels, forms.Form):
    # The backup the owner agreed to lose when all slots are used; if another one would be lost
    # by now (a backup was made meanwhile), the owner is asked again.
    evicts = forms.CharField(max_length=64, required=False, widget=forms.HiddenInput)


class RestoreForm(PlainLabels, forms.Form):
    collections = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one collection to restore."},
    )
    # Off by default: a snapshot is always taken first; this spends a Wix slot too
    # (rules.wix_safety_backup says what it would make go, and when it is skipped).
    wix_backup = forms.BooleanField(required=False, label="Also take a Wix backup first")
    confirm_name = forms.CharField(max_length=200, label="Type the site's name to confirm")

    def __init__(self, *args: Any, site: Site, backup: Backup, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.site = site
        choices = [(c["id"], c.get("displayName") or c["id"]) for c in backup.collections]
        self.fields["collections"].choices = choices
        self.fields["collections"].initial = [value for value, _ in choices]
        self.all_ids = {value for value, _ in choices}

    def clean_confirm_name(self) -> str:
        typed = self.cleaned_data["confirm_name"].strip()
        if typed != self.site.name.strip():
            raise forms.ValidationError(f"Type “{self.site.name}” exactly, to confirm.")
        return typed

    @property
    def kind(self) -> str:
        chosen = set(self.cleaned_data["collections"])
        return Operation.Kind.RESTORE if chosen == self.all_ids else Operation.Kind.RESTORE_PARTIAL

    @property
    def chosen(self) -> list[str]:
        return [] if self.kind == Operation.Kind.RESTORE else list(self.cleaned_data["collections"])


def time_zone_names() -> list[str]:
    """Every zone a person may choose, by its IANA name."""
    return sorted(zoneinfo.available_timezones())


class TimeZoneForm(PlainLabels, forms.Form):
    # A searchable field (a text box over a list of ~600 zones, account.html) rather than a bare
    # select; static/js/zone.js offers the browser's own zone first.
    time_zone = forms.CharField(
        label="Time zone",
        required=False,
        max_length=64,
        widget=forms.TextInput(
            attrs={
                "list": "time-zones",
                "autocomplete": "off",
                "spellcheck": "false",
            }
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].help_text = (
            "Type to search, e.g. Paris or New York. Times on every page are shown in it; "
            f"left empty, in this installation's zone ({settings.TIME_ZONE})."
        )
        default = f"This installation's zone ({settings.TIME_ZONE})"
        self.fields["time_zone"].widget.attrs["placeholder"] = default

    @property
    def zone_options(self) -> list[tuple[str, str]]:
        """The list the field searches (account.html's datalist): name, and name as read."""
        return [(name, name.replace("_", " ")) for name in time_zone_names()]

    def clean_time_zone(self) -> str:
        typed = self.cleaned_data["time_zone"].strip()
        if not typed:
            return ""
        # People type "Europe/Paris", "paris" or "new york": a zone's whole name, or its city,
        # whatever the case, with spaces for underscores.
        key = typed.replace(" ", "_").casefold()
        names = time_zone_names()
        found = [name for name in names if name.casefold() == key] or [
            name for name in names if name.rsplit("/", 1)[-1].casefold() == key
        ]
        if len(found) > 1:
            raise forms.ValidationError(
                f"“{typed}” names several zones ({', '.join(found)}): choose one of them."
            )
        if not found:
            raise forms.ValidationError(
                f"“{typed}” is not a time zone we know: choose one from the list, "
                "such as Europe/Paris or America/New_York."
            )
        return found[0]
