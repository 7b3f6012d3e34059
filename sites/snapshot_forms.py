"""The snapshot settings form: whether "Back up now" takes one, and the retention rules."""

from typing import Any

from django import forms

from . import rules
from .forms import PlainLabels
from .snapshots import RetentionRules

# Beyond this a rule keeps more than anyone reads back (daily: over a year and a half); the
# model's small integers would take up to 32767, which only a typo would ask for.
RETENTION_MAX = 500


def _count(label: str, help_text: str) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        min_value=0,
        max_value=RETENTION_MAX,
        help_text=help_text,
        error_messages={
            "min_value": "Enter 0 or more.",
            "max_value": f"Enter at most {RETENTION_MAX}.",
            "invalid": "Enter a whole number.",
            "required": "Enter a number (0 turns this rule off).",
        },
    )


class SnapshotSettingsForm(PlainLabels, forms.Form):
    with_backup = forms.BooleanField(label="Take a snapshot with every Back up now", required=False)
    keep_last = _count("Keep the last", "snapshots, whatever their age")
    daily = _count("Daily", "days with a snapshot: the newest of each is kept")
    weekly = _count("Weekly", "weeks with a snapshot: the newest of each is kept")
    monthly = _count("Monthly", "months with a snapshot: the newest of each is kept")
    # Set by the dry-run page: the owner has seen what these rules remove.
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        counts = {k: data.get(k) for k in ("keep_last", "daily", "weekly", "monthly")}
        if all(v is not None for v in counts.values()):
            reason = rules.retention_refusal(**counts)
            if reason:
                raise forms.ValidationError(reason)
        return data

    def retention(self) -> RetentionRules:
        data = self.cleaned_data
        return RetentionRules(
            keep_last=data["keep_last"],
            daily=data["daily"],
            weekly=data["weekly"],
            monthly=data["monthly"],
        )
