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


class Migration(migrations.Migration):
    dependencies = [("sites", "0013_schedules")]

    operations = [
        migrations.AddField(
            model_name="site",
            name="incidents_open",
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.RunPython(mark_open, migrations.RunPython.noop),
    ]
