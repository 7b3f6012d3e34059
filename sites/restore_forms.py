"""The restore forms of snapshots: how to restore (whole collections, merge, chosen items), which
collections or items, and the typed confirmation the Wix restore uses too. Input only: what may
be restored is the engine's and the rules' business."""

from typing import Any

from django import forms

from .forms import PlainLabels, RestoreForm
from .models import RestoreRun, Site, Snapshot

MODE_HELP = {
    RestoreRun.Mode.WIX: "Wix puts the whole backup back (its own restore).",
    RestoreRun.Mode.WHOLE: "Every chosen collection becomes exactly as in the snapshot: items "
    "deleted or changed since come back, items added since are removed.",
    RestoreRun.Mode.MERGE: "Items deleted or changed since come back; items added since (visitor "
    "submissions, new orders) are kept. Loses nothing newer.",
    RestoreRun.Mode.ITEMS: "Only the items listed below are put back as in the snapshot (or "
    "removed, if the snapshot does not hold them).",
}
SNAPSHOT_MODES = [(m.value, m.label) for m in RestoreRun.SNAPSHOT_MODES]
# A pasted list is bounded before it is read (the engine bounds the items again).
ITEMS_MAX_CHARS = 1_000_000


def parse_items(text: str) -> dict[str, list[str]]:
    """`<collection id> <item id>` per line (collection ids hold no spaces) into
    {collection: [item ids]}; ValidationError naming the first line that is not one."""
    chosen: dict[str, list[str]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        parts = line.split(None, 1)
        if len(parts) != 2:
            raise forms.ValidationError(
                f"Line {number} is not “collection item-id” (for example “Products product-0001”)."
            )
        chosen.setdefault(parts[0], []).append(parts[1].strip())
    return chosen


class RestoreModeMixin(forms.Form):
    """The mode and, for chosen items, the items; shared by the snapshot's restore form and the
    Wix backup's (whose snapshot they restore)."""

    items = forms.CharField(
        required=False,
        max_length=ITEMS_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
        label="Items to restore (chosen items only)",
        help_text="One per line: the collection's id, a space, the item's id.",
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("mode") == RestoreRun.Mode.ITEMS:
            try:
                chosen = parse_items(cleaned.get("items") or "")
            except forms.ValidationError as error:
                self.add_error("items", error)
                return cleaned
            if not chosen:
                self.add_error("items", "List at least one item to restore.")
            cleaned["chosen"] = chosen
        return cleaned

    @property
    def mode_help(self) -> list[tuple[str, str]]:
        """(mode, what it does) pairs (a list: a template would read a dict's "items" key)."""
        return [(str(k), v) for k, v in MODE_HELP.items()]


class SnapshotRestoreForm(PlainLabels, RestoreModeMixin):
    mode = forms.ChoiceField(
        choices=SNAPSHOT_MODES,
        initial=RestoreRun.Mode.MERGE,
        widget=forms.RadioSelect,
        label="How to restore",
    )
    collections = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Collections to restore",
    )
    # Off by default, as on a Wix backup's restore page (rules.wix_safety_backup).
    wix_backup = forms.BooleanField(required=False, label="Also take a Wix backup first")
    confirm_name = forms.CharField(max_length=200, label="Type the site's name to confirm")
    field_order = ["mode", "collections", "items", "wix_backup", "confirm_name"]

    def __init__(self, *args: Any, site: Site, snapshot: Snapshot, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.site = site
        choices = [(c["id"], c["id"]) for c in snapshot.collections if c.get("id")]
        self.fields["collections"].choices = choices
        self.fields["collections"].initial = [value for value, _ in choices]

    def clean_confirm_name(self) -> str:
        typed = self.cleaned_data["confirm_name"].strip()
        if typed != self.site.name.strip():
            raise forms.ValidationError(f"Type “{self.site.name}” exactly, to confirm.")
        return typed

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        mode = cleaned.get("mode")
        if mode and mode != RestoreRun.Mode.ITEMS and not cleaned.get("collections"):
            self.add_error("collections", "Choose at least one collection to restore.")
        return cleaned


class BackupModeMixin(RestoreModeMixin):
    """On a Wix backup's restore page, when a snapshot was taken with it: Wix's restore stays
    the default, the snapshot's modes are offered beside it."""

    mode = forms.ChoiceField(
        choices=[(RestoreRun.Mode.WIX.value, RestoreRun.Mode.WIX.label), *SNAPSHOT_MODES],
        initial=RestoreRun.Mode.WIX,
        widget=forms.RadioSelect,
        label="How to restore",
    )

    @property
    def snapshot_mode(self) -> str:
        """The snapshot's mode chosen, or "" for Wix's restore."""
        mode = self.cleaned_data.get("mode", "")
        return "" if mode == RestoreRun.Mode.WIX else mode


class BackupRestoreForm(BackupModeMixin, RestoreForm):
    """The Wix backup's restore form with the modes of the snapshot taken with it."""

    field_order = ["mode", "collections", "items", "wix_backup", "confirm_name"]
