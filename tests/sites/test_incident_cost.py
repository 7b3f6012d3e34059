"""An operation's end does incident work only when it may have some: a failure opens its cause's
incident; a success looks for one to resolve only while `Site.incidents_open` says one of its
cause is open (bench/scale.py: the success of nearly every backup reads and writes what it did
before alerts)."""

import importlib

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sites import engine
from sites.engine.states import finish
from sites.models import Incident, Operation, Site
from tests.factories import make_operation


def end(site, kind=Operation.Kind.CREATE_BACKUP, state=Operation.State.SUCCEEDED, error=""):
    """An operation of the site ended as a worker ends it: with the site it read itself."""
    op = make_operation(site, kind=kind, state=Operation.State.SUBMITTED)
    op.site = Site.objects.get(pk=site.pk)
    with CaptureQueriesContext(connection) as queries:
        assert finish(op, state=state, error=error, from_state=Operation.State.SUBMITTED)
    return [q["sql"] for q in queries.captured_queries]


def open_causes(site) -> set[str]:
    return set(
        Incident.objects.filter(site=site, resolved_at__isnull=True).values_list("cause", flat=True)
    )


def flagged_causes(site) -> set[str]:
    bits = Site.objects.get(pk=site.pk).incidents_open
    return {cause for cause in Incident.Cause.values if bits & Incident.cause_bit(cause)}


def test_a_success_with_no_incident_open_does_no_incident_work(site):
    sql = end(site)
    assert not [q for q in sql if "sites_incident" in q or "sites_alert" in q]
    # Nor a transaction of its own (inside the test's, an atomic block is a savepoint).
    assert not [q for q in sql if "SAVEPOINT" in q]
    assert not open_causes(site)


def test_an_incident_of_another_cause_open_changes_nothing_for_a_success(site):
    engine.incident_open(Site.objects.get(pk=site.pk), Incident.Cause.STALE, "Old.", timezone.now())
    sql = end(site)
    assert not [q for q in sql if "sites_incident" in q or "SAVEPOINT" in q]
    assert open_causes(site) == flagged_causes(site) == {Incident.Cause.STALE}


def test_a_success_resolves_the_incident_a_failure_of_its_kind_opened_with_its_alert(site):
    end(site, state=Operation.State.FAILED, error="Wix could not complete the backup.")
    assert open_causes(site) == flagged_causes(site) == {Incident.Cause.BACKUP_FAILED}
    sql = end(site)
    assert [q for q in sql if "sites_incident" in q]
    assert not open_causes(site) and not flagged_causes(site)
    (resolved,) = Incident.objects.filter(site=site)
    assert list(resolved.alerts.values_list("kind", flat=True).order_by("kind")) == [
        "opened",
        "resolved",
    ]
    # The next success is back on the cheap path.
    assert not [q for q in end(site) if "sites_incident" in q]


def test_the_flag_follows_each_cause_on_its_own(site):
    for kind in (Operation.Kind.CREATE_BACKUP, Operation.Kind.SNAPSHOT, Operation.Kind.RESTORE):
        end(site, kind=kind, state=Operation.State.FAILED, error="It broke.")
    causes = {Incident.Cause.BACKUP_FAILED, Incident.Cause.SNAPSHOT_FAILED}
    assert open_causes(site) == flagged_causes(site) == causes | {Incident.Cause.RESTORE_FAILED}
    end(site, kind=Operation.Kind.RESTORE)
    assert open_causes(site) == flagged_causes(site) == causes
    end(site, kind=Operation.Kind.SNAPSHOT)
    assert open_causes(site) == flagged_causes(site) == {Incident.Cause.BACKUP_FAILED}


def test_the_migration_marks_the_incidents_open_with_the_models_bits():
    migration = importlib.import_module("sites.migrations.0014_review_fixes")
    assert Incident.Cause.values == migration.CAUSES
    assert [Incident.cause_bit(c) for c in migration.CAUSES] == [1 << n for n in range(7)]
