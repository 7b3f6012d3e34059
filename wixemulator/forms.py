import json
from typing import Any

from django import forms


class ItemForm(forms.Form):
    data = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 14, "spellcheck": "false"}),
        help_text="The item's fields as a JSON object.",
    )

    def clean_data(self) -> dict[str, Any]:
        try:
            value = json.loads(self.cleaned_data["data"])
        except ValueError as error:
            raise forms.ValidationError(f"This is not valid JSON: {error}") from error
        if not isinstance(value, dict):
            raise forms.ValidationError('The item must be a JSON object, like {"stock": 3}.')
        return value


class BulkForm(forms.Form):
    field = forms.RegexField(
        regex=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$",
        max_length=64,
        error_messages={"invalid": "Use letters, digits and underscores, like stock."},
    )
    value = forms.CharField(
        max_length=1000,
        required=False,
        help_text='A JSON value (0, true, "text"); anything else is stored as text.',
    )

    def clean_value(self) -> Any:
        raw = self.cleaned_data["value"]
        try:
            return json.loads(raw)
        except ValueError:
            return raw


class ClockForm(forms.Form):
    """How much time to let pass on every clock (the sandbox's "Let time pass")."""

    days = forms.IntegerField(min_value=0, max_value=366, initial=1)
    hours = forms.IntegerField(min_value=0, max_value=23, initial=0, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not self.errors and not (data.get("days") or data.get("hours")):
            raise forms.ValidationError("Let at least an hour pass.")
        return data

    def seconds(self) -> int:
        return self.cleaned_data["days"] * 86400 + (self.cleaned_data.get("hours") or 0) * 3600
