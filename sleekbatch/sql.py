"""Set-based SQL: statements that write many rows at once, or one row without the ORM's compiler.

One convention: tables and columns are named from the models' metadata (``table``, ``column``,
``recordset``), never typed by hand, and values are prepared by their fields as the ORM would.
Domain modules call these; they build no statement text of their own. Why: docs/sql.md.
"""

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from functools import cache
from typing import Any, NamedTuple

from django.db import connections, router
from django.db.models import Model, QuerySet
from django.db.models.sql.subqueries import UpdateQuery
from django.db.utils import DEFAULT_DB_ALIAS


class Sql(NamedTuple):
    """A fragment of SQL and the parameters of its placeholders, in order."""

    sql: str
    params: tuple = ()


def table(model: type[Model], *, using: str = DEFAULT_DB_ALIAS) -> str:
    return connections[using].ops.quote_name(model._meta.db_table)


def column(model: type[Model], name: str, *, using: str = DEFAULT_DB_ALIAS) -> str:
    """The quoted column of a field, by its name or attname (``batch`` or ``batch_id``)."""
    return connections[using].ops.quote_name(model._meta.get_field(name).column)


def in_list(model: type[Model], name: str, values: Sequence, *, using: str = DEFAULT_DB_ALIAS) -> Sql:
    """``%s, %s, …`` with ``values`` prepared by the field ``name`` (for ``… IN (…)``)."""
    field = model._meta.get_field(name)
    connection = connections[using]
    return Sql(", ".join(["%s"] * len(values)), tuple(field.get_db_prep_value(value, connection) for value in values))


def recordset(
    model: type[Model], names: Iterable[str], *, extra: Mapping[str, str] | None = None, alias: str = "r"
) -> str:
    """``json_to_recordset(%s::json) AS alias("name" type, …)`` (PostgreSQL): rows from one JSON parameter.

    Each name is a field of ``model`` (typed as its column) or a key of ``extra`` (name → SQL type);
    the JSON rows use the same names as keys (see ``json_rows``).
    """
    connection = connections[DEFAULT_DB_ALIAS]
    quote_name = connection.ops.quote_name
    definitions = [f"{quote_name(name)} {model._meta.get_field(name).db_type(connection)}" for name in names]
    definitions += [f"{quote_name(name)} {sql_type}" for name, sql_type in (extra or {}).items()]
    return f"json_to_recordset(%s::json) AS {alias}({', '.join(definitions)})"


def json_rows(rows: list[dict]) -> str:
    """The JSON parameter of a ``recordset``: UUIDs, decimals and dates given as strings by the caller."""
    return json.dumps(rows)


def insert_select(model: type[Model], values: Mapping[str, Any], source: Sql) -> Sql:
    """``INSERT INTO <model> (…) SELECT … <source>``: many rows in one statement, none through Python.

    ``values`` maps field names to an ``Sql`` expression over the source rows or to a constant,
    which the field prepares for the database as the ORM would. Fields not named get their
    default, so a field added to the model later needs no change here; the primary key and
    generated columns are left to the database unless named. Placeholders are ``%s`` with
    ``source.params`` a sequence, or ``%(name)s`` with a mapping (the bench's seeding): then the
    expressions' params are mappings too, and a constant goes in as ``insert_<model>_<attname>``.
    """
    connection = connections[DEFAULT_DB_ALIAS]
    named = isinstance(source.params, Mapping)
    targets, expressions = [], []
    params: dict | list = dict(source.params) if named else []
    by_attname = {model._meta.get_field(name).attname: value for name, value in values.items()}
    for field in model._meta.concrete_fields:
        if field.attname in by_attname:
            value = by_attname[field.attname]
        elif field.primary_key or getattr(field, "generated", False):
            continue
        else:
            value = field.get_default()
        targets.append(connection.ops.quote_name(field.column))
        if isinstance(value, Sql):
            expressions.append(value.sql)
            if named:
                params.update(value.params or {})
            else:
                params.extend(value.params)
        elif named:
            key = f"insert_{model._meta.model_name}_{field.attname}"
            expressions.append(f"%({key})s")
            params[key] = field.get_db_prep_save(value, connection)
        else:
            expressions.append("%s")
            params.append(field.get_db_prep_save(value, connection))
    return Sql(
        f"INSERT INTO {table(model)} ({', '.join(targets)}) SELECT {', '.join(expressions)} {source.sql}",
        params if named else (*params, *source.params),
    )


def analyze(*models: type[Model], using: str = DEFAULT_DB_ALIAS) -> None:
    """Fresh planner statistics for the models' tables (PostgreSQL's ``ANALYZE``), as autovacuum would keep them."""
    with connections[using].cursor() as cursor:
        for model in models:
            cursor.execute(f"ANALYZE {table(model, using=using)}")


def delete_where(queryset: QuerySet) -> int:
    """``DELETE FROM <model> WHERE <the queryset's filter>`` in one statement: no rows loaded, no
    signals, no cascade (the caller deletes the referencing rows first, or in the same transaction
    where the foreign keys are deferred). The number of rows deleted."""
    return queryset._raw_delete(queryset.db)


def upsert_rows(
    model: type[Model],
    source: Sql,
    *,
    names: Sequence[str],
    key: Sequence[str],
    constants: Mapping[str, Any] | None = None,
) -> Sql:
    """``INSERT INTO <model> (…) SELECT … FROM (<source>) ON CONFLICT (key) DO UPDATE``: insert or overwrite.

    ``source`` is a SELECT whose output columns are named ``names`` (fields of ``model``);
    ``constants`` (field → value) are written on every row, inserted or updated; ``key`` names
    the unique fields a row is matched on, every other written column is overwritten. Rows go
    in key order, so two concurrent upserts of the same keys lock them in the same order.
    """
    connection = connections[DEFAULT_DB_ALIAS]
    quote_name = connection.ops.quote_name
    constants = constants or {}
    fields = [model._meta.get_field(name) for name in (*names, *constants)]
    columns = [quote_name(field.column) for field in fields]
    key_columns = [quote_name(model._meta.get_field(name).column) for name in key]
    updates = ", ".join(f"{column} = excluded.{column}" for column in columns if column not in key_columns)
    constant_params = tuple(
        model._meta.get_field(name).get_db_prep_save(value, connection) for name, value in constants.items()
    )
    # "WHERE 1 = 1": SQLite reads ON CONFLICT after a bare FROM as part of a join.
    return Sql(
        f"INSERT INTO {table(model)} ({', '.join(columns)})"
        f" SELECT {', '.join([*(f'r.{quote_name(name)}' for name in names), *(['%s'] * len(constants))])}"
        f" FROM ({source.sql}) AS r WHERE 1 = 1"
        f" ORDER BY {', '.join(f'r.{quote_name(name)}' for name in key)}"
        f" ON CONFLICT ({', '.join(key_columns)}) DO UPDATE SET {updates}",
        (*constant_params, *source.params),
    )


def execute(statement: Sql, *, using: str = DEFAULT_DB_ALIAS) -> int:
    """Run a statement; the number of rows it wrote."""
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute(statement.sql, statement.params)
        if cursor.rowcount == -1 and connection.vendor == "sqlite":
            # Python's sqlite3 counts only statements that begin with INSERT, UPDATE or DELETE.
            cursor.execute("SELECT changes()")
            return cursor.fetchone()[0]
        return cursor.rowcount


def fetch_one(statement: Sql, *, using: str = DEFAULT_DB_ALIAS) -> tuple | None:
    with connections[using].cursor() as cursor:
        cursor.execute(statement.sql, statement.params)
        return cursor.fetchone()


def update_sql(queryset: QuerySet, changes: Mapping[str, Any], returning: Sequence[str]) -> Sql:
    """``UPDATE … SET changes WHERE <the queryset's filter> RETURNING returning`` (columns of ``returning``).

    The ORM writes the UPDATE (expressions, parameter adaptation, the WHERE) exactly as
    ``QuerySet.update()`` would; Django 5.2 has no RETURNING for updates, so it is appended.
    """
    connection = connections[queryset.db]
    query = queryset.query.chain(UpdateQuery)
    query.add_update_values(changes)
    statement, params = query.get_compiler(connection=connection).as_sql()
    returned = ", ".join(column(queryset.model, name, using=queryset.db) for name in returning)
    return Sql(f"{statement} RETURNING {returned}", tuple(params))


def update_returning(queryset: QuerySet, changes: Mapping[str, Any], returning: Sequence[str]) -> list[tuple]:
    """Run ``update_sql``: only the rows this statement changed come back (a transition's
    compare-and-set), values as Python."""
    return fetch_all(update_sql(queryset, changes, returning), queryset.model, returning, using=queryset.db)


def fetch_all(
    statement: Sql, model: type[Model], names: Sequence[str], *, using: str = DEFAULT_DB_ALIAS
) -> list[tuple]:
    """Run a statement whose first columns are the fields ``names`` of ``model``; its rows, those
    values as Python (further columns as the driver gives them)."""
    fields = [model._meta.get_field(name) for name in names]
    with connections[using].cursor() as cursor:
        cursor.execute(statement.sql, statement.params)
        rows = cursor.fetchall()
    return [
        (
            *(_to_python(field, value) for field, value in zip(fields, row[: len(fields)], strict=True)),
            *row[len(fields) :],
        )
        for row in rows
    ]


def fetch_as_orm(statement: Sql, model: type[Model], names: Sequence[str], *, using: str = DEFAULT_DB_ALIAS) -> list:
    """Run a statement whose first columns are the fields ``names`` of ``model``; its rows, those
    values converted exactly as the ORM reads them (the backend's and the fields' converters, e.g.
    aware datetimes on SQLite), further columns as the driver gives them."""
    connection = connections[using]
    converters = _orm_converters(model, tuple(names), using)
    with connection.cursor() as cursor:
        cursor.execute(statement.sql, statement.params)
        rows = cursor.fetchall()
    converted = []
    for row in rows:
        values = list(row)
        for index, expression, functions in converters:
            for function in functions:
                values[index] = function(values[index], expression, connection)
        converted.append(values)
    return converted


@cache
def _orm_converters(model: type[Model], names: tuple[str, ...], using: str) -> list[tuple]:
    connection = connections[using]
    converters = []
    for index, name in enumerate(names):
        field = model._meta.get_field(name)
        expression = field.get_col(model._meta.db_table)
        functions = connection.ops.get_db_converters(expression) + expression.get_db_converters(connection)
        if functions:
            converters.append((index, expression, functions))
    return converters


def insert_columns(
    model: type[Model],
    *,
    columns: Mapping[str, Sequence],
    constants: Mapping[str, Any] | None = None,
    conflict: Sequence[str] = (),
) -> list:
    """Many rows of ``model`` given column by column, in one statement; their primary keys.

    ``columns`` maps field names to one list of plain values each (all the same length),
    ``constants`` field names to one value for every row; with ``conflict`` (a unique key's
    fields) a row whose key exists overwrites its other columns. On PostgreSQL one
    ``INSERT … SELECT … FROM unnest(<one typed array per column>)``: 10,000 rows take ~0.1 s,
    where ``bulk_create`` spends seconds preparing each value. Elsewhere ``bulk_create``.
    """
    constants = constants or {}
    count = len(next(iter(columns.values()), []))
    if count == 0:
        return []
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql":
        objects = [model(**{name: values[i] for name, values in columns.items()}, **constants) for i in range(count)]
        options = {}
        if conflict:
            updated = [name for name in [*columns, *constants] if name not in conflict]
            options = {"update_conflicts": True, "unique_fields": list(conflict), "update_fields": updated}
        return [obj.pk for obj in model.objects.using(connection.alias).bulk_create(objects, **options)]
    quote_name = connection.ops.quote_name
    fields = {name: model._meta.get_field(name) for name in [*columns, *constants]}
    names = {name: quote_name(field.column) for name, field in fields.items()}
    arrays = [f"%s::{fields[name].db_type(connection)}[]" for name in columns]
    aliases = [f"u{i}" for i in range(len(columns))]
    selected = [*aliases, *(["%s"] * len(constants))]
    # In the order of their placeholders: the constants (SELECT list), then the arrays (FROM).
    params = [
        *(fields[name].get_db_prep_save(value, connection) for name, value in constants.items()),
        *(list(values) for values in columns.values()),
    ]
    statement = (
        f"INSERT INTO {table(model, using=connection.alias)} ({', '.join(names.values())})"
        f" SELECT {', '.join(selected)} FROM unnest({', '.join(arrays)}) AS u({', '.join(aliases)})"
    )
    if conflict:
        keys = ", ".join(names[name] if name in names else column(model, name) for name in conflict)
        updates = ", ".join(f"{names[name]} = EXCLUDED.{names[name]}" for name in fields if name not in conflict)
        statement += f" ON CONFLICT ({keys}) DO UPDATE SET {updates}"
    statement += f" RETURNING {quote_name(model._meta.pk.column)}"
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return [row[0] for row in cursor.fetchall()]


def work_mem_for_transaction(megabytes: int, *, using: str = DEFAULT_DB_ALIAS) -> None:
    """PostgreSQL's ``SET LOCAL work_mem``: more memory to sort or hash, until the transaction ends."""
    with connections[using].cursor() as cursor:
        cursor.execute(f"SET LOCAL work_mem = '{int(megabytes)}MB'")


def update_where(model: type[Model], changes: Mapping[str, Any], where: Sql) -> Sql:
    """``UPDATE <model> SET … WHERE where``: constants prepared by their fields as the ORM would."""
    connection = connections[DEFAULT_DB_ALIAS]
    fields = [model._meta.get_field(name) for name in changes]
    assignments = ", ".join(f"{connection.ops.quote_name(field.column)} = %s" for field in fields)
    values = tuple(
        field.get_db_prep_save(value, connection) for field, value in zip(fields, changes.values(), strict=True)
    )
    return Sql(f"UPDATE {table(model)} SET {assignments} WHERE {where.sql}", (*values, *where.params))


def with_queries(queries: Sequence[tuple[str, Sql]], final: Sql) -> Sql:
    """``WITH name AS (query), … final``: on PostgreSQL a query may write (``UPDATE … RETURNING``,
    ``INSERT … RETURNING``), so one statement moves rows and writes what follows from them.

    Every query reads the database as it was when the statement began, and the rows of the
    earlier queries through their names; SQLite accepts one plain ``WITH`` before an INSERT,
    UPDATE or SELECT.
    """
    parts = ", ".join(f"{name} AS ({query.sql})" for name, query in queries)
    return Sql(
        f"WITH {parts} {final.sql}", tuple(param for _, query in queries for param in query.params) + final.params
    )


def select_columns(model: type[Model], names: Sequence[str], where: Sql, *, alias: str = "") -> Sql:
    """``SELECT <columns of names> FROM <model> WHERE …``: the rows an ``update_sql`` would return."""
    prefix = f"{alias}." if alias else ""
    columns = ", ".join(f"{prefix}{column(model, name)}" for name in names)
    return Sql(f"SELECT {columns} FROM {table(model)} {alias} WHERE {where.sql}", where.params)


def on_conflict_do_nothing(insert: Sql) -> Sql:
    """An ``insert_select`` that skips rows a unique constraint already holds (its source needs a WHERE)."""
    return Sql(f"{insert.sql} ON CONFLICT DO NOTHING", insert.params)


def returning_one(statement: Sql) -> Sql:
    """``… RETURNING 1``: a writing query of ``with_queries`` whose rows are counted afterwards."""
    return Sql(f"{statement.sql} RETURNING 1", statement.params)


# --- text built in the statement (messages over many rows), the same on PostgreSQL and SQLite ---


def concat(*parts: "Sql | str") -> Sql:
    """``a || b || …``: a ``str`` is a constant, an ``Sql`` an expression (NULL makes the whole NULL)."""
    pieces, params = [], []
    for part in parts:
        if isinstance(part, Sql):
            pieces.append(f"({part.sql})")
            params.extend(part.params)
        else:
            pieces.append("%s")
            params.append(part)
    return Sql(" || ".join(pieces), tuple(params))


def _vendor(using: str = DEFAULT_DB_ALIAS) -> str:
    return connections[using].vendor


def text_prefix(expression: Sql, length: int) -> Sql:
    """The first ``length`` characters of a value as text (a UUID's as ``str(uuid)[:8]`` would give
    them for ``length`` ≤ 8: SQLite stores the hex digits, PostgreSQL prints them)."""
    return Sql(f"substr(CAST({expression.sql} AS TEXT), 1, {int(length)})", expression.params)


def decimal_text(expression: Sql, places: int) -> Sql:
    """A number as text with exactly ``places`` decimals, as ``f"{value:.{places}f}"`` gives it."""
    places = int(places)
    if _vendor() == "postgresql":
        return Sql(f"CAST(round(CAST({expression.sql} AS numeric), {places}) AS TEXT)", expression.params)
    return Sql(f"printf('%%.{places}f', {expression.sql})", expression.params)


def date_text(expression: Sql) -> Sql:
    """A date as ``f"{value:%b %d, %Y}"`` gives it (``Nov 28, 2026``)."""
    if _vendor() == "postgresql":
        return Sql(f"to_char({expression.sql}, 'Mon DD, YYYY')", expression.params)
    return Sql(
        f"substr('JanFebMarAprMayJunJulAugSepOctNovDec', CAST(strftime('%%m', {expression.sql}) AS INTEGER) * 3 - 2, 3)"
        f" || strftime(' %%d, %%Y', {expression.sql})",
        expression.params * 2,
    )


def _to_python(field, value):
    # A raw cursor skips the ORM's converters: SQLite returns UUIDs as hex and decimals as floats.
    value = field.to_python(value)
    if isinstance(value, Decimal) and getattr(field, "decimal_places", None) is not None:
        value = value.quantize(Decimal(1).scaleb(-field.decimal_places))
    return value


@cache
def _insert_row_sql(model: type[Model], using: str) -> str:
    quote_name = connections[using].ops.quote_name
    fields = model._meta.local_concrete_fields
    columns = ", ".join(quote_name(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    return f"INSERT INTO {quote_name(model._meta.db_table)} ({columns}) VALUES ({placeholders})"


def insert_row(instance: Model) -> None:
    """``instance.save(force_insert=True)`` through a statement built once per process.

    Values are prepared by each field (defaults, auto_now, JSON and UUID adaptation) as
    ``save()`` does; pre_save/post_save signals are not sent, so use it only for models
    nothing connects to, and only when the primary key is set in Python (no RETURNING id).
    """
    model = type(instance)
    using = router.db_for_write(model, instance=instance)
    connection = connections[using]
    values = [
        field.get_db_prep_save(field.pre_save(instance, True), connection=connection)
        for field in model._meta.local_concrete_fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(_insert_row_sql(model, using), values)
    instance._state.adding = False
    instance._state.db = using


def advisory_xact_lock(namespace: int, key: int, *, wait: bool) -> bool:
    """PostgreSQL's transaction-level advisory lock ``(namespace, key)``, released at commit or rollback.

    With ``wait`` it blocks until granted (True); without, it answers at once whether it got it.
    """
    function = "pg_advisory_xact_lock" if wait else "pg_try_advisory_xact_lock"
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s, %s)", [namespace, key])
        return True if wait else cursor.fetchone()[0]


def datetime_text_utc(expression: Sql) -> Sql:
    """A timestamp in UTC as ``f"{value:%b %d, %Y %H:%M}"`` gives it (``Nov 28, 2026 20:35``)."""
    if _vendor() == "postgresql":
        return Sql(f"to_char({expression.sql} AT TIME ZONE 'UTC', 'Mon DD, YYYY HH24:MI')", expression.params)
    day = date_text(expression)
    return Sql(f"{day.sql} || strftime(' %%H:%%M', {expression.sql})", (*day.params, *expression.params))


# --- COPY out (PostgreSQL) ----------------------------------------------------------------------


def queryset_sql(queryset: QuerySet) -> Sql:
    """The SELECT a queryset runs (on the database it reads from), as a fragment to wrap."""
    sql, params = queryset.query.get_compiler(using=queryset.db).as_sql()
    return Sql(sql, tuple(params))


def copy_csv_rows(statement: Sql, *, using: str = DEFAULT_DB_ALIAS) -> Iterator[bytes]:
    """``COPY (statement) TO STDOUT WITH (FORMAT csv)`` on PostgreSQL, one CSV line (``\\n``-ended
    bytes) per row as the server produces it: no WITH HOLD cursor materialises the result first,
    and no value is converted to Python. The connection is busy until the iterator is exhausted."""
    connection = connections[using]
    statement_sql = f"COPY ({statement.sql}) TO STDOUT WITH (FORMAT csv)"
    with connection.cursor() as cursor:
        # Through the connection's execute wrappers, so what records or checks queries sees it;
        # psycopg binds a COPY's parameters client-side. The COPY runs when its block is entered.
        copy = cursor._execute_with_wrappers(statement_sql, statement.params, False, _open_copy)
        with connection.wrap_database_errors, copy as rows:
            for data in rows:
                yield bytes(data)


def _open_copy(sql: str, params, many: bool, context: dict):
    return context["cursor"].cursor.copy(sql, params)


# --- rows given from Python, dates computed in the statement ---------------------------------


def numbered_texts(values: Sequence[str], *, alias: str) -> Sql:
    """A FROM item: ``values`` as rows ``alias.value`` (text) numbered ``alias.n`` from 1, in order."""
    if _vendor() == "postgresql":
        return Sql(f"unnest(CAST(%s AS text[])) WITH ORDINALITY AS {alias}(value, n)", (list(values),))
    return Sql(f"(SELECT value, key + 1 AS n FROM json_each(%s)) {alias}", (json.dumps(list(values)),))


def constant(model: type[Model], name: str, value: Any) -> Sql:
    """``CAST(%s AS <column type>)``: a value of field ``name`` prepared as the ORM would, typed
    so that a SELECT list of constants can feed an ``insert_select`` on PostgreSQL."""
    connection = connections[DEFAULT_DB_ALIAS]
    field = model._meta.get_field(name)
    return Sql(f"CAST(%s AS {field.db_type(connection)})", (field.get_db_prep_save(value, connection),))


def date_plus_days(day, days: Sql) -> Sql:
    """The date ``day`` (a ``date``) plus ``days`` (an integer expression), as a date."""
    if _vendor() == "postgresql":
        return Sql(f"(CAST(%s AS date) + ({days.sql}))", (day, *days.params))
    return Sql(f"date(%s, '+' || ({days.sql}) || ' days')", (day.isoformat(), *days.params))


def random_uuid() -> Sql:
    """A new random UUID per row, made by the database (PostgreSQL's v4; on SQLite 32 random hex digits)."""
    if _vendor() == "postgresql":
        return Sql("gen_random_uuid()")
    return Sql("lower(hex(randomblob(16)))")
