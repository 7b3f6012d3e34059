"""The schedule edit form: frequency, time of day, weekday, paused. What may be set is the
rule's (sites/schedules.py), said as the form's error."""

from typing import Any

from django import forms

from . import schedules
from .forms import PlainLabels
from .schedules_models import Schedule


class ScheduleForm(PlainLabels, forms.Form):
    frequency = forms.ChoiceField(
        label="How often",
        error_messages={
            "required": "Choose how often.",
            "invalid_choice": "Choose how often from the list.",
        },
    )
    at = forms.TimeField(
        label="At (your time)",
        input_formats=["%H:%M"],
        widget=forms.TimeInput(format="%H:%M", attrs={"type": "time"}),
        help_text="In your time zone (Account); every hour uses the minutes only.",
        error_messages={
            "required": "Enter a time of day, like 03:00.",
            "invalid": "Enter a time of day as hours and minutes, like 03:00.",
        },
    )
    weekday = forms.TypedChoiceField(
        label="On (every week)",
        choices=Schedule.WEEKDAYS,
        coerce=int,
        required=False,
        empty_value=None,
        error_messages={"invalid_choice": "Choose a day of the week from the list."},
    )
    paused = forms.BooleanField(label="Paused", required=False)

    def __init__(self, *args: Any, kind: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.fields["frequency"].choices = [
            (f, Schedule.Frequency(f).label) for f in schedules.FREQUENCIES[kind]
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if "frequency" in data and "weekday" in data:
            reason = schedules.schedule_refusal(
                kind=self.kind, frequency=data["frequency"], weekday=data["weekday"]
            )
            if reason:
                raise forms.ValidationError(reason)
        return data
