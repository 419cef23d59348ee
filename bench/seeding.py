"""Set-based seeding for the bench phases: many rows in one INSERT … SELECT (sleekbatch/sql.py)."""

from __future__ import annotations


def insert_select(cursor, model, expressions: dict[str, str], from_sql: str, params: dict) -> None:
    """``INSERT INTO <model> (…) SELECT <expressions> FROM …`` on the caller's cursor (one transaction
    with its temporary tables), with ``%(name)s`` placeholders from ``params``. Fields not in
    ``expressions`` (names or attnames) get their default, so a field added to the model later
    does not break the benchmark; the primary key is left to the database unless given."""
    from sleekbatch import sql

    statement = sql.insert_select(
        model, {name: sql.Sql(expression) for name, expression in expressions.items()}, sql.Sql(from_sql, params)
    )
    cursor.execute(statement.sql, statement.params)
