"""Set-based seeding for the bench phases: many rows in one INSERT … SELECT."""

from __future__ import annotations


def insert_select(cursor, model, expressions: dict[str, str], from_sql: str, params: dict) -> None:
    """``INSERT INTO <model> (every column) SELECT … FROM …``: columns not in ``expressions`` get
    the field's default, so a field added to the model later does not break the benchmark."""
    from django.db import connection

    columns, values = [], []
    for field in model._meta.concrete_fields:
        if getattr(field, "generated", False):
            continue
        columns.append(connection.ops.quote_name(field.column))
        if field.attname in expressions:
            values.append(expressions[field.attname])
        else:
            key = f"default_{model._meta.model_name}_{field.attname}"  # one params dict may serve several models
            params[key] = field.get_db_prep_save(field.get_default(), connection)
            values.append(f"%({key})s")
    table = connection.ops.quote_name(model._meta.db_table)
    cursor.execute(f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(values)} {from_sql}", params)
