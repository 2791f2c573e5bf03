"""The JSON Schema of ``report.json``, and the fields that measure wall time.

:func:`report_json_schema` is the pydantic schema of :class:`~reports.model.RunReport`
(JSON Schema 2020-12) with an ``$id`` naming the schema version. Fields that measure the
machine rather than the simulation carry ``"x-wall-time": true`` in it; their dotted
paths are :data:`WALL_TIME_FIELDS`, and :func:`strip_wall_time` removes them so two
reports of the same inputs compare equal.

The fields themselves, and the ``x-wall-time`` mark on each, are in :mod:`reports.model`.
"""

from __future__ import annotations

import copy
import types
import typing
from typing import Any

from pydantic import BaseModel

from reports.model import SCHEMA_VERSION, RunReport

__all__ = ["SCHEMA_ID", "WALL_TIME_FIELDS", "report_json_schema", "strip_wall_time"]

#: The ``$id`` of the report schema; a URN, so nothing ever tries to fetch it.
SCHEMA_ID = f"urn:bpcert:report:{SCHEMA_VERSION}"


def _submodel(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """The model inside ``annotation`` (through ``X | None`` and ``list[X]``), and if a list."""
    origin = typing.get_origin(annotation)
    if origin is list:
        (inner,) = typing.get_args(annotation)
        model, _ = _submodel(inner)
        return model, True
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            model, is_list = _submodel(arg)
            if model is not None:
                return model, is_list
        return None, False
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    return None, False


def _wall_time_paths(model: type[BaseModel], prefix: str = "") -> list[str]:
    out: list[str] = []
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        extra = info.json_schema_extra
        if isinstance(extra, dict) and extra.get("x-wall-time") is True:
            out.append(path)
            continue
        sub, is_list = _submodel(info.annotation)
        if sub is not None:
            out.extend(_wall_time_paths(sub, f"{path}[]." if is_list else f"{path}."))
    return out


#: Dotted paths of the wall-time fields; ``[]`` means "in every item of this list".
WALL_TIME_FIELDS: list[str] = _wall_time_paths(RunReport)


def _strip(node: Any, parts: list[str]) -> None:
    if not parts or not isinstance(node, dict):
        return
    head, rest = parts[0], parts[1:]
    if head.endswith("[]"):
        items = node.get(head[:-2])
        if isinstance(items, list):
            for item in items:
                _strip(item, rest)
    elif not rest:
        node.pop(head, None)
    else:
        _strip(node.get(head), rest)


def strip_wall_time(data: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of report data (as from ``report.json``) without the wall-time fields."""
    out = copy.deepcopy(data)
    for path in WALL_TIME_FIELDS:
        _strip(out, path.split("."))
    return out


def report_json_schema() -> dict[str, Any]:
    """The JSON Schema (2020-12) that every ``report.json`` of this version validates against."""
    schema = RunReport.model_json_schema(mode="validation")
    head: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": f"bpcert run report {SCHEMA_VERSION}",
        "description": (
            "The report.json written by a bpcert run. Fields marked x-wall-time measure "
            "the machine, not the simulation: " + ", ".join(WALL_TIME_FIELDS) + "."
        ),
        "x-schema-version": SCHEMA_VERSION,
        "x-wall-time-fields": list(WALL_TIME_FIELDS),
    }
    schema.pop("title", None)
    schema.pop("description", None)
    return {**head, **schema}
