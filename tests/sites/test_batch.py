"""sites/batch.py: a page's queries sent together, compiled once and reused for other sites.

What it returns must be what the ORM returns, for the site it was compiled for and for every
other site after it (only the ids in the parameters change), and the pages built on it must show
each site its own rows.
"""

from datetime import timedelta

import pytest
from django.db import DataError, connection, transaction
from django.test.utils import CaptureQueriesContext

from sites import batch, rules
from sites.models import Backup, Operation, Restoration
from sites.pages.rows import rows_querysets
from sites.pages.state import STATE_QUERIES, state_querysets
from tests.factories import make_backup, make_operation, make_restoration, make_site

pytestmark = pytest.mark.django_db


def _site_with_rows(owner, name: str, backups: int):
    site = make_site(owner, name)
    made = [make_backup(site, age=timedelta(hours=i + 1)) for i in range(backups)]
    make_backup(site, status=Backup.PENDING, age=timedelta(minutes=1))
    make_restoration(site, made[0], status=Restoration.PENDING)
    make_operation(
        site,
        Operation.Kind.DELETE_BACKUP,
        state=Operation.State.SUBMITTED,
        backup_wix_id=made[-1].wix_id,
    )
    return site


def _orm(querysets):
    return [list(qs) for qs in querysets]


def test_prepared_reads_equal_the_orms_for_each_site_in_turn(owner):
    first = _site_with_rows(owner, "First", backups=2)
    second = _site_with_rows(owner, "Second", backups=5)

    def build(site):
        return [*state_querysets([site.pk]), *rows_querysets(site)]

    for site in (first, second, first):
        rows, _ = batch.fetch_prepared(
            ("test", rules.slot_count()), [site.pk], lambda site=site: build(site)
        )
        assert rows == _orm(build(site))
    # Each read its own site's backups (the first of the rows' queries): the second's list is
    # longer.
    backups = STATE_QUERIES
    assert len(batch.fetch_prepared(("test", 3), [first.pk], lambda: build(first))[0][backups]) == 3
    assert (
        len(batch.fetch_prepared(("test", 3), [second.pk], lambda: build(second))[0][backups]) == 6
    )


def test_states_of_several_sites_read_together_match_one_by_one(owner):
    sites = [_site_with_rows(owner, f"Shop {i}", backups=i + 1) for i in range(3)]
    ids = [s.pk for s in sites]
    together, _ = batch.fetch_prepared("states", ids, lambda: state_querysets(ids))
    assert together == _orm(state_querysets(ids))
    reversed_ids = ids[::-1]
    again, _ = batch.fetch_prepared("states", reversed_ids, lambda: state_querysets(reversed_ids))
    assert again == _orm(state_querysets(reversed_ids))


def test_every_query_is_still_logged_and_model_querysets_give_models(owner):
    site = _site_with_rows(owner, "Logged", backups=1)
    querysets = state_querysets([site.pk])
    by_time = site.backups.order_by("requested_at")
    with CaptureQueriesContext(connection) as queries:
        rows, (backups, operations) = batch.fetch_together(
            querysets, [by_time, site.operations.all()]
        )
    assert len(queries) == len(querysets) + 2
    assert [b.wix_id for b in backups] == list(by_time.values_list("wix_id", flat=True))
    assert [o.pk for o in operations] == list(site.operations.values_list("pk", flat=True))
    assert rows == _orm(querysets)


def test_a_failing_query_raises_and_leaves_the_connection_usable(owner):
    site = make_site(owner)
    bad = Backup.objects.extra(where=["1/0 = 1"]).values_list("wix_id")
    with pytest.raises(DataError, match="division by zero"), transaction.atomic():
        batch.fetch_together([*state_querysets([site.pk]), bad])
    assert Backup.objects.filter(site=site).count() == 0


def test_prepared_models_equal_the_orms_for_each_site_in_turn(owner):
    """Model querysets read in the same round trip, compiled once: the same objects (related
    rows and annotations included) as the ORM's, for each site."""
    from django.db.models import Count, Window

    first = _site_with_rows(owner, "First models", backups=2)
    second = _site_with_rows(owner, "Second models", backups=4)

    def models(site):
        return [
            site.operations.select_related("site").annotate(total=Window(Count("id"))),
            site.backups.order_by("requested_at"),
        ]

    for site in (first, second, first):
        _, (operations, backups) = batch.fetch_prepared(
            "test-models",
            [site.pk],
            lambda site=site: state_querysets([site.pk]),
            lambda site=site: models(site),
        )
        orm_operations, orm_backups = (list(qs) for qs in models(site))
        assert [(o.pk, o.site.name, o.total) for o in operations] == [
            (o.pk, o.site.name, o.total) for o in orm_operations
        ]
        assert [(b.wix_id, b.requested_at, b.collections) for b in backups] == [
            (b.wix_id, b.requested_at, b.collections) for b in orm_backups
        ]
        assert {b.site_id for b in backups} == {site.pk}


def test_the_server_keeps_the_prepared_reads_parsed_and_planned(owner):
    """Bound on the server, the statements' text is the same for every site: PostgreSQL keeps
    them prepared, and a later site's read uses them rather than planning its own."""
    first = _site_with_rows(owner, "First", backups=2)
    second = _site_with_rows(owner, "Second", backups=3)

    def prepared_count():
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_prepared_statements")
            return cursor.fetchone()[0]

    def build(site):
        return [*state_querysets([site.pk]), *rows_querysets(site)]

    before = prepared_count()
    batch.fetch_prepared(("prepared", 3), [first.pk], lambda: build(first))
    after_first = prepared_count()
    assert after_first - before == len(build(first))
    rows, _ = batch.fetch_prepared(("prepared", 3), [second.pk], lambda: build(second))
    assert prepared_count() == after_first  # the same statements, another site's parameters
    assert rows == _orm(build(second))


def test_an_id_the_sql_holds_in_another_form_is_refused_when_compiled(owner):
    """A site id given as text while the SQL holds a UUID would never be swapped: every later
    call would read the first site's rows. It is refused at once."""
    site = make_site(owner, "Shop")
    with pytest.raises(ValueError, match="not among the compiled parameters"):
        batch.fetch_prepared(("as-text", 1), [str(site.pk)], lambda: state_querysets([site.pk]))


def test_a_site_is_read_for_its_owner_only_whatever_site_was_read_first(owner):
    """access.site_to_view is compiled once for the first person and site: a later call for
    another person or site swaps both ids (404 for a site that is not theirs)."""
    from django.contrib.auth import get_user_model
    from django.http import Http404

    from sites import access

    other_owner = get_user_model().objects.create_user("other", password="pw-other-123456")
    mine = make_site(owner, "Mine")
    theirs = make_site(other_owner, "Theirs")
    assert access.site_to_view(owner, mine.pk).name == "Mine"
    assert access.site_to_view(other_owner, str(theirs.pk)).name == "Theirs"
    for person, site_id in ((owner, theirs.pk), (other_owner, mine.pk), (owner, "not-a-uuid")):
        with pytest.raises(Http404):
            access.site_to_view(person, site_id)


def test_prepared_reads_can_be_turned_off_for_a_pooler(owner, settings):
    """DATABASE_PREPARED_READS off (a pooler that cannot keep prepared statements): the same
    reads, bound on the client, and nothing left prepared on the server."""
    settings.DATABASE_PREPARED_READS = False
    site = _site_with_rows(owner, "Pooled", backups=2)
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    connection.connection._prepared.clear()  # psycopg's own record of what it prepared
    build = lambda: [*state_querysets([site.pk]), *rows_querysets(site)]  # noqa: E731
    rows, _ = batch.fetch_prepared(("pooled", 3), [site.pk], build)
    assert rows == _orm(build())
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements")
        assert cursor.fetchone()[0] == 0


def test_a_prepared_read_is_logged_with_its_values_as_any_query(owner):
    """Run by name on the server, a statement leaves psycopg no text: the log still shows the
    SQL with the site's id, as Django logs any query."""
    site = make_site(owner, "Logged")
    with CaptureQueriesContext(connection) as queries:
        batch.fetch_prepared(("logged", 1), [site.pk], lambda: state_querysets([site.pk]))
        batch.fetch_prepared(("logged", 1), [site.pk], lambda: state_querysets([site.pk]))
    assert len(queries.captured_queries) == 2 * STATE_QUERIES
    for query in queries.captured_queries:
        assert site.pk.hex in query["sql"].replace("-", "")
