"""Need-to-know in SQL: "this record's case is one the principal may see"."""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

__all__ = ["ARRAY_ABOVE", "in_cases"]

# Case ids beyond which they travel as one parameter. A coordinator holds thousands of grants,
# and as many bound parameters cost more than the query: SQLAlchemy renders each one, psycopg
# re-parses the 60 KB statement (too long for its cache) and PostgreSQL binds them one by one,
# 15-25 ms per query at 2,000 against 0.3 ms for the same plan with one array; SQLite pays
# 1-3 ms (docs/benchmarks.md, "Where the time goes").
ARRAY_ABOVE = 50


def in_cases(
    column: sa.ColumnElement[str], case_ids: Sequence[str], dialect: str
) -> sa.ColumnElement[bool]:
    """``column IN case_ids``, written the way ``dialect`` handles best for that many ids
    (any ids without commas: record ids too)."""
    if len(case_ids) <= ARRAY_ABOVE:
        return column.in_(case_ids)
    if dialect == "postgresql":
        if any("," in case_id for case_id in case_ids):  # never for generated ids
            return column == sa.any_(sa.literal(list(case_ids), ARRAY(sa.String())))
        # One text split by the server: psycopg quotes an array element by element, through
        # a regular expression each, 7 ms of the web worker's time per query at 2,000 ids.
        joined = sa.func.string_to_array(sa.literal(",".join(case_ids), sa.Text()), ",")
        return column == sa.any_(sa.cast(joined, ARRAY(sa.String())))
    # SQLite: a JSON array, unpacked by json_each into a list SQLite indexes once per query.
    ids = sa.func.json_each(sa.literal(json.dumps(list(case_ids)))).table_valued("value")
    return column.in_(sa.select(ids.c.value))
