"""Migration 0014 marks what was there before it: each site's open incidents in
`Site.incidents_open`, and the snapshots taken for a restore preview or for a restore's safety
(`Snapshot.taken_for`), a running one they reused staying the owner's."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("sites", "0013_schedules")]
AFTER = [("sites", "0014_review_fixes")]


def migrate(target):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)
    return executor.loader.project_state(target).apps


@pytest.mark.django_db(transaction=True)
def test_the_migration_marks_open_incidents_previews_readings_and_safety_snapshots():
    apps = migrate(BEFORE)
    try:
        user = apps.get_model("auth", "User").objects.create(username="migrated")
        site = apps.get_model("sites", "Site").objects.create(
            owner=user, name="Shop", wix_site_id="w1", api_base_url="https://www.wixapis.com"
        )
        incident = apps.get_model("sites", "Incident").objects
        incident.create(site=site, cause="snapshot_failed", text="x")
        incident.create(site=site, cause="stale", text="x")
        incident.create(site=site, cause="backup_failed", text="x", resolved_at=timezone.now())
        operation = apps.get_model("sites", "Operation").objects
        snapshot = apps.get_model("sites", "Snapshot").objects
        now = timezone.now()

        def snap(name, created):
            op = operation.create(site=site, kind="snapshot", created_at=created)
            return snapshot.create(site=site, operation=op, storage_id=name, state="complete")

        owners = snap("owner", now - timedelta(hours=3))
        reading = snap("reading", now - timedelta(hours=2))
        reused = snap("reused", now - timedelta(hours=1))
        safety = snap("safety", now)
        preview = apps.get_model("sites", "Preview").objects
        preview.create(site=site, source=owners, live=reading, live_taken_for_preview=True)
        preview.create(site=site, source=owners, live=owners, live_taken_for_preview=False)
        run = apps.get_model("sites", "RestoreRun").objects
        # Asked after `reused` began (it served as the net), and before `safety` (taken for it).
        first = operation.create(site=site, kind="restore", created_at=now - timedelta(minutes=30))
        run.create(operation=first, mode="wix", safety=reused)
        second = operation.create(site=site, kind="restore", created_at=now - timedelta(seconds=1))
        run.create(operation=second, mode="wix", safety=safety)

        apps = migrate(AFTER)
        Site = apps.get_model("sites", "Site")
        assert Site.objects.get(pk=site.pk).incidents_open == (1 << 3) | (1 << 5)
        taken = dict(
            apps.get_model("sites", "Snapshot").objects.values_list("storage_id", "taken_for")
        )
        assert taken == {
            "owner": "owner",
            "reading": "preview",
            "reused": "owner",
            "safety": "safety",
        }
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
