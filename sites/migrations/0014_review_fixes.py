from django.db import migrations, models

# Site.incidents_open for the incidents open now: the bit of each cause is its place among
# Incident.Cause's values as they were when this was written (Incident.cause_bit).
CAUSES = [
    "backup_failed",
    "restore_failed",
    "delete_failed",
    "snapshot_failed",
    "key",
    "stale",
    "unreachable",
]


def mark_open(apps, schema_editor):
    Site = apps.get_model("sites", "Site")
    Incident = apps.get_model("sites", "Incident")
    bits: dict = {}
    for site_id, cause in Incident.objects.filter(resolved_at__isnull=True).values_list(
        "site_id", "cause"
    ):
        bits[site_id] = bits.get(site_id, 0) | 1 << CAUSES.index(cause)
    for site_id, value in bits.items():
        Site.objects.filter(pk=site_id).update(incidents_open=value)


def mark_taken_for(apps, schema_editor):
    """The live readings previews took themselves, and the safety snapshots taken for their
    restore (recorded after it: one that was already running when the restore was asked was
    the owner's, and stays so)."""
    Snapshot = apps.get_model("sites", "Snapshot")
    Preview = apps.get_model("sites", "Preview")
    RestoreRun = apps.get_model("sites", "RestoreRun")
    readings = Preview.objects.filter(live_taken_for_preview=True).values("live_id")
    Snapshot.objects.filter(pk__in=readings).update(taken_for="preview")
    safety = RestoreRun.objects.filter(
        safety__operation__created_at__gte=models.F("operation__created_at")
    ).values("safety_id")
    Snapshot.objects.filter(pk__in=safety).update(taken_for="safety")


class Migration(migrations.Migration):
    dependencies = [("sites", "0013_schedules")]

    operations = [
        migrations.AddField(
            model_name="site",
            name="incidents_open",
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.RunPython(mark_open, migrations.RunPython.noop),
        migrations.AddField(
            model_name="snapshot",
            name="taken_for",
            field=models.CharField(
                choices=[
                    ("owner", "The owner's"),
                    ("preview", "A restore preview's live reading"),
                    ("safety", "A restore's safety snapshot"),
                ],
                default="owner",
                max_length=8,
            ),
        ),
        migrations.RunPython(mark_taken_for, migrations.RunPython.noop),
    ]
