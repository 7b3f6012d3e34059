"""The Alerts page's forms: a channel (e-mail or webhook) and a site's expected backup age."""

from django import forms

from .forms import PlainLabels

# A week more than a monthly routine; beyond a year no backup is "expected" any more.
MAX_AGE_DAYS = 365


class EmailChannelForm(PlainLabels, forms.Form):
    address = forms.EmailField(
        label="E-mail address",
        max_length=254,
        error_messages={
            "invalid": "Enter a valid e-mail address.",
            "required": "Enter an address.",
        },
    )


class WebhookChannelForm(PlainLabels, forms.Form):
    url = forms.CharField(
        label="Webhook URL",
        max_length=500,
        help_text="Slack-compatible: we POST JSON with a text field.",
        error_messages={"required": "Enter a URL.", "max_length": "500 characters at most."},
    )


class ExpectedAgeForm(PlainLabels, forms.Form):
    days = forms.IntegerField(
        label="Expected within (days)",
        min_value=1,
        max_value=MAX_AGE_DAYS,
        error_messages={
            "min_value": "Enter 1 or more.",
            "max_value": f"Enter at most {MAX_AGE_DAYS}.",
            "invalid": "Enter a whole number of days.",
            "required": "Enter a number of days.",
        },
    )
