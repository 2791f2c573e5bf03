"""The JSON Schema of ``report.json``, and the fields that measure wall time.

:func:`report_json_schema` is the pydantic schema of :class:`~reports.model.RunReport`
(JSON Schema 2020-12) with an ``$id`` naming the schema version. Fields that measure the
machine rather than the simulation carry ``"x-wall-time": true`` in it; their dotted
paths are :data:`WALL_TIME_FIELDS`, and :func:`strip_wall_time` removes them so two
reports of the same inputs compare equal.

The implementation lives in :mod:`reports.model` (next to the fields it describes); this
module is the place to import it from when only the schema is wanted.
"""

from __future__ import annotations

from reports.model import SCHEMA_ID, WALL_TIME_FIELDS, report_json_schema, strip_wall_time

__all__ = ["SCHEMA_ID", "WALL_TIME_FIELDS", "report_json_schema", "strip_wall_time"]
