"""Several independent reads of a page sent to the database together.

A site's page read after a change needs about ten small queries. Each costs a round trip to
PostgreSQL, and on a busy machine every round trip waits for the scheduler twice (the server's
process, then ours): that wait, not the queries, was most of the page's time (bench/page_speed.py).
On PostgreSQL the queries go out in one pipeline (psycopg's pipeline mode) and their results come
back in one round trip; elsewhere (SQLite) they run one after another as the ORM runs them. Either
way each query is logged as Django logs any query, so the tests still count them.
"""

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any
from weakref import WeakKeyDictionary

from django.conf import settings
from django.db import DataError, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from django.db.models import QuerySet
from django.db.models.query import ModelIterable
from django.db.models.sql.compiler import SQLCompiler

Rows = list[list[tuple[Any, ...]]]

# Building a page's querysets and compiling them to SQL was half of a first view's own time, the
# same work at every view for another site id. So each connection (one per thread) keeps them
# compiled, by the caller's key; only the ids in their parameters change from call to call.
_KEPT_PER_CONNECTION = 64


@dataclass(frozen=True)
class _Compiled:
    ids: tuple[Any, ...]
    compilers: list[SQLCompiler]
    statements: list[tuple[str, tuple[Any, ...]]]
    # The querysets read as models, compiled too (their compilers and statements follow the
    # others' in the lists above), each as its `_model_reader`.
    models: list[QuerySet]
    # Each values_list statement's converters (compiler.get_converters), as results_iter would
    # work them out.
    converters: list[dict[int, Any]]


_compiled: "WeakKeyDictionary[BaseDatabaseWrapper, dict[Hashable, _Compiled]]" = WeakKeyDictionary()


def _converters(compiler: SQLCompiler) -> dict[int, Any]:
    """What `results_iter` applies to each row of `compiler`'s statement."""
    fields = [column[0] for column in compiler.select[0 : compiler.col_count]]
    if compiler.has_composite_fields(fields):
        raise ValueError("composite fields are not read in a batch")
    return compiler.get_converters(fields)


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _swapped(params: tuple[Any, ...], ids: dict[Any, Any]) -> tuple[Any, ...]:
    """The parameters with each id of the compiled call replaced by this call's."""
    out = []
    for value in params:
        try:
            out.append(ids.get(value, value))
        except TypeError:  # unhashable (a list or a dict): never an id
            out.append(value)
    return tuple(out)


def fetch_prepared(
    key: Hashable,
    ids: Sequence[Any],
    build: Callable[[], Sequence[QuerySet]],
    build_models: Callable[[], Sequence[QuerySet]] = lambda: (),
) -> tuple[Rows, list[list[Any]]]:
    """`fetch_together(build(), build_models())`, with the querysets built and compiled once per
    connection and `key`, and all of them answered in one round trip: `build` and
    `build_models` must make the same SQL for any `ids` (distinct values, such as site ids,
    that appear in its parameters), the SQL depending on nothing else that `key` does not name.
    """
    alias = "default"
    connection = connections[alias]
    if connection.vendor != "postgresql" or len(set(ids)) < len(ids):
        # Two equal ids (a collection named like a kind) could not be told apart when swapped.
        return fetch_together(build(), build_models())
    kept = _compiled.setdefault(connection, {})
    full_key = (key, len(ids))
    compiled = kept.get(full_key)
    if compiled is None:
        querysets, models = list(build()), list(build_models())
        compilers = [qs.query.get_compiler(using=alias) for qs in [*querysets, *models]]
        statements = [c.as_sql() for c in compilers]
        converters = [_converters(c) for c in compilers]
        split = len(querysets)
        readers = [
            _model_reader(queryset, compiler, converter)
            for queryset, compiler, converter in zip(
                models, compilers[split:], converters[split:], strict=True
            )
        ]
        compiled = _Compiled(tuple(ids), compilers, statements, readers, converters)
        found = {value for _, params in compiled.statements for value in params if _hashable(value)}
        if missing := [value for value in ids if value not in found]:
            # An id the SQL holds in another form (a str for a UUID) would never be swapped:
            # every later call would read the first call's rows.
            raise ValueError(f"ids not among the compiled parameters: {missing!r}")
        if len(kept) >= _KEPT_PER_CONNECTION:
            kept.clear()
        kept[full_key] = compiled
    swap = dict(zip(compiled.ids, ids, strict=True))
    statements = [(sql, _swapped(params, swap)) for sql, params in compiled.statements]
    split = len(compiled.compilers) - len(compiled.models)
    rows, _ = _run(
        connection,
        compiled.compilers,
        statements,
        (),
        raw_from=split,
        prepared=True,
        converters=compiled.converters,
    )
    objects = [
        _models_from(reader, raw) for reader, raw in zip(compiled.models, rows[split:], strict=True)
    ]
    return rows[:split], objects


def _model_reader(
    queryset: QuerySet, compiler: SQLCompiler, converters: dict[int, Any]
) -> QuerySet:
    """A copy of `queryset` that makes its objects with `compiler` (compiled once), whose
    converters were worked out once too: `_models_from` gives it the rows to make them from."""
    reader = queryset._chain()
    reader.query = queryset.query.clone()
    reader.query.get_compiler = lambda *args, **kwargs: compiler  # type: ignore[method-assign]
    compiler.get_converters = lambda expressions: converters  # type: ignore[method-assign]
    return reader


def _models_from(reader: QuerySet, rows: list[tuple[Any, ...]]) -> list:
    """The model objects of rows read with a `_model_reader`'s compiler (related rows and
    annotations included), made as Django makes them (`ModelIterable`), from what the pipeline
    already fetched."""
    compiler = reader.query.get_compiler()
    compiler.execute_sql = lambda *args, **kwargs: [rows]  # type: ignore[method-assign]
    try:
        return list(ModelIterable(reader))
    finally:
        del compiler.execute_sql


def fetch_together(
    tuples: Sequence[QuerySet], models: Sequence[QuerySet] = ()
) -> tuple[Rows, list[list[Any]]]:
    """The rows of each `values_list` queryset in `tuples`, and the objects of each queryset in
    `models` (any queryset, models with their related rows included): one round trip on
    PostgreSQL, and one more for each of `models` after the first.

    All querysets read the default database; none may depend on another's answer.
    """
    connection = connections["default"]
    if not tuples or connection.vendor != "postgresql":
        return [list(qs) for qs in tuples], [list(qs) for qs in models]
    compilers = [qs.query.get_compiler(using="default") for qs in tuples]
    return _run(connection, compilers, [c.as_sql() for c in compilers], models)


def _prepared_cursor(connection: BaseDatabaseWrapper) -> Any:
    """A cursor of `connection` (logged as Django logs any) whose statements the server keeps
    parsed and planned after their first run.

    Django binds parameters on the client, so each site's SQL is a new text for the server to
    parse and plan: the planning alone was half of a first view's database time. Bound on the
    server instead, a statement's text is the same for every site and is prepared once per
    connection (psycopg names and keeps them, at most `prepared_max`).
    """
    raw = connection.connection
    if raw.prepare_threshold is None:
        # Django turns psycopg's preparing off for poolers that cannot keep prepared
        # statements; only these cursors ask for it (Django's own bind on the client and never
        # prepare), and only when settings.DATABASE_PREPARED_READS allows it.
        raw.prepare_threshold = _ONLY_WHEN_ASKED
    cursor = _prepared_cursor_class()(raw)
    if connection.queries_logged:
        connection.validate_thread_sharing()
        return _LoggedPrepared(cursor, connection)
    return connection._prepare_cursor(cursor)


class _LoggedPrepared(CursorDebugWrapper):
    """Logs what Django would log had it bound the parameters itself: the SQL with its values
    (its own wrapper reads the text back from psycopg, which keeps none for a statement run by
    name)."""

    def execute(self, sql: Any, params: Any = None) -> Any:
        try:
            shown = self.db.ops.compose_sql(sql, params)
        except DataError:
            shown = sql
        with self.debug_sql(shown):
            return CursorWrapper.execute(self, sql, params)


# A threshold no statement reaches: psycopg prepares only what is executed with prepare=True.
_ONLY_WHEN_ASKED = 2**62


@cache
def _prepared_cursor_class() -> type:
    # Imported here: the PostgreSQL backend needs psycopg, which an SQLite install may lack.
    from django.db.backends.postgresql.base import ServerBindingCursor

    class PreparedCursor(ServerBindingCursor):
        def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
            return super().execute(query, params, prepare=True, **kwargs)

    return PreparedCursor


def _run(
    connection: BaseDatabaseWrapper,
    compilers: list[SQLCompiler],
    statements: list[tuple[str, tuple[Any, ...]]],
    models: Sequence[QuerySet],
    raw_from: int | None = None,
    prepared: bool = False,
    converters: "list[dict[int, Any]] | None" = None,
) -> tuple[Rows, list[list[Any]]]:
    """Send the statements in one pipeline (`models` read by the ORM at its end); the rows of
    each, converted, but left raw from the `raw_from`th on (model rows, made into objects by
    the caller). `prepared`: the statements are the same at every call (fetch_prepared), so
    the server keeps them parsed and planned; `converters`: each statement's, worked out when
    it was compiled (`results_iter` works them out again at every call)."""
    raw_from = len(statements) if raw_from is None else raw_from
    connection.ensure_connection()
    prepared = prepared and settings.DATABASE_PREPARED_READS
    make = _prepared_cursor if prepared else lambda connection: connection.cursor()
    cursors = [make(connection) for _ in statements]
    try:
        objects: list[list[Any]] = []
        # Errors come out at the pipeline's end, past the cursors' own wrapping: Django's
        # exceptions either way (and the connection marked as Django marks it).
        with connection.wrap_database_errors, connection.connection.pipeline():
            for cursor, (sql, params) in zip(cursors, statements, strict=True):
                cursor.execute(sql, params)
            # The ORM fetches right after sending, which ends the pipeline's wait: every query
            # above is answered in the same round trip as the first of these.
            objects = [list(qs) for qs in models]
        results = []
        for compiler, cursor in zip(compilers, cursors, strict=True):
            raw = cursor.fetchall()
            if compiler.has_extra_select:  # columns the ordering needed, not asked for
                raw = [row[: compiler.col_count] for row in raw]
            if len(results) >= raw_from:
                results.append(raw)  # a model's rows: converted as its objects are made
                continue
            # Django selects the columns in the order values_list names them (as it iterates).
            if converters is None:
                results.append(list(compiler.results_iter(results=[raw], tuple_expected=True)))
            elif found := converters[len(results)]:
                results.append(list(map(tuple, compiler.apply_converters(raw, found))))
            else:
                results.append(raw)
        return results, objects
    finally:
        for cursor in cursors:
            cursor.close()
