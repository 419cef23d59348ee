"""Set-based writes for suppliers: many rows in one statement, columns named by model metadata."""

from django.db import connection


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def rows_insert(model, *, columns: dict[str, list], constants: dict | None = None, conflict: tuple = ()) -> list:
    """Many rows of ``model`` in one statement; returns their primary keys.

    On PostgreSQL one ``INSERT … SELECT … FROM unnest(<one array per column>)`` (``ON CONFLICT
    (conflict) DO UPDATE`` the other columns when ``conflict`` names a unique key): 10,000
    snapshots take ~0.1 s, where the ORM's bulk_create spends seconds preparing each value.
    ``columns`` maps field names to one list of plain values each (all the same length),
    ``constants`` field names to one value for every row. Elsewhere: the ORM's bulk_create.
    """
    constants = constants or {}
    count = len(next(iter(columns.values()), []))
    if count == 0:
        return []
    meta = model._meta
    if connection.vendor != "postgresql":
        objects = [model(**{name: values[i] for name, values in columns.items()}, **constants) for i in range(count)]
        options = {}
        if conflict:
            updated = [name for name in [*columns, *constants] if name not in conflict]
            options = {"update_conflicts": True, "unique_fields": list(conflict), "update_fields": updated}
        return [obj.pk for obj in model.objects.bulk_create(objects, **options)]
    fields = {name: meta.get_field(name) for name in [*columns, *constants]}
    names = [_q(fields[name].column) for name in fields]
    params = {f"c{i}": values for i, values in enumerate(columns.values())}
    params |= {
        f"k{i}": fields[name].get_db_prep_save(value, connection) for i, (name, value) in enumerate(constants.items())
    }
    arrays = ", ".join(f"%(c{i})s::{fields[name].db_type(connection)}[]" for i, name in enumerate(columns))
    aliases = ", ".join(f"u{i}" for i in range(len(columns)))
    selected = [f"u{i}" for i in range(len(columns))] + [f"%(k{i})s" for i in range(len(constants))]
    sql = (
        f"INSERT INTO {_q(meta.db_table)} ({', '.join(names)})"
        f" SELECT {', '.join(selected)} FROM unnest({arrays}) AS u({aliases})"
    )
    if conflict:
        keys = ", ".join(_q(meta.get_field(name).column) for name in conflict)
        updates = ", ".join(
            f"{column} = EXCLUDED.{column}" for name, column in zip(fields, names, strict=True) if name not in conflict
        )
        sql += f" ON CONFLICT ({keys}) DO UPDATE SET {updates}"
    sql += f" RETURNING {_q(meta.pk.column)}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]
