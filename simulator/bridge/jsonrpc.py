"""JSON-RPC 2.0 framing and wire values: the layer under every message of the protocol.

One JSON object per line (UTF-8, ``\\n``-terminated), no batches. :func:`decode_message`
turns a line into a :class:`Request` or a :class:`Response`, or raises
:class:`ProtocolViolation` naming what is wrong; the ``encode_*`` functions write lines.
The wire values are how the models of :mod:`simulator.contract` travel: instants as
ISO-8601 with an offset, and everything a plugin sends back validated strictly, the way
JSON is typed (:func:`load_value`, :func:`load_model`), raising :class:`WireError`.

Which methods exist and what their params are is above this module:
:mod:`simulator.bridge.protocol` (harness -> plugin) and
:mod:`simulator.bridge.backend_methods` (plugin -> harness, ``backend/*``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

__all__ = [
    "JSONRPC_VERSION",
    "MAX_LINE_BYTES",
    "ErrorCode",
    "ErrorObject",
    "Message",
    "ProtocolViolation",
    "Request",
    "RequestId",
    "Response",
    "WireError",
    "decode_message",
    "dump_model",
    "encode_error",
    "encode_request",
    "encode_result",
    "format_validation_error",
    "instant_to_wire",
    "load_model",
    "load_trusted",
    "load_value",
]

#: The JSON-RPC version string every message carries.
JSONRPC_VERSION = "2.0"
#: Longest line either side accepts; a longer one is a protocol violation.
MAX_LINE_BYTES = 64 * 1024 * 1024

#: A JSON-RPC request id: a string or an integer (never null, a bool or a fraction).
RequestId = int | str


class ErrorCode(IntEnum):
    """JSON-RPC error codes used by this protocol.

    The first five are JSON-RPC 2.0's own. ``PLUGIN_EXCEPTION`` carries an exception
    raised by the plugin (``data.exception`` names it); ``BACKEND_ERROR`` is the harness
    answering a failed ``backend/*`` request (``data.kind`` says why).
    """

    PARSE_ERROR = -32700
    INVALID_REQUEST = -32600
    METHOD_NOT_FOUND = -32601
    INVALID_PARAMS = -32602
    INTERNAL_ERROR = -32603
    PLUGIN_EXCEPTION = -32000
    BACKEND_ERROR = -32001


class WireError(ValueError):
    """A value on the wire does not match its schema; the message says where and why."""


class ProtocolViolation(ValueError):
    """A line that is not a valid JSON-RPC 2.0 message of this protocol.

    ``response_id`` is the id of a message that looks like a response (it has an
    ``id`` and no ``method``) but is malformed, so that the waiting side can tell a
    broken answer to its own request from stray output.
    """

    def __init__(
        self,
        detail: str,
        response_id: RequestId | None = None,
        code: int = -32600,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.response_id = response_id
        #: The JSON-RPC error code to answer such a line with (-32700: not JSON).
        self.code = code


# ------------------------------------------------------------------------ framing


@dataclass(frozen=True, slots=True)
class ErrorObject:
    """A JSON-RPC error object."""

    code: int
    message: str
    data: Any = None

    def to_json(self) -> dict[str, Any]:
        """The error as a JSON object (``data`` left out when ``None``)."""
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            out["data"] = self.data
        return out


@dataclass(frozen=True, slots=True)
class Request:
    """A JSON-RPC request (``id`` set) or notification (``id`` is ``None``)."""

    id: RequestId | None
    method: str
    params: Any


@dataclass(frozen=True, slots=True)
class Response:
    """A JSON-RPC response: exactly one of ``result`` and ``error`` is meaningful."""

    id: RequestId | None
    result: Any
    error: ErrorObject | None


Message = Request | Response


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _valid_id(value: Any) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)) or isinstance(value, str)


def _encode(message: dict[str, Any]) -> bytes:
    text = json.dumps(message, ensure_ascii=True, separators=(",", ":"), allow_nan=False)
    return text.encode("ascii") + b"\n"


def encode_request(request_id: RequestId, method: str, params: Mapping[str, Any]) -> bytes:
    """One request line, ready to write."""
    return _encode(
        {"jsonrpc": JSONRPC_VERSION, "id": request_id, "method": method, "params": dict(params)}
    )


def encode_result(request_id: RequestId | None, result: Any) -> bytes:
    """One success-response line, ready to write (``result`` may be ``None``: JSON null)."""
    return _encode({"jsonrpc": JSONRPC_VERSION, "id": request_id, "result": result})


def encode_error(request_id: RequestId | None, error: ErrorObject) -> bytes:
    """One error-response line, ready to write."""
    return _encode({"jsonrpc": JSONRPC_VERSION, "id": request_id, "error": error.to_json()})


def _shorten(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} chars)"


def decode_message(line: bytes) -> Message:
    """Parse one line into a :class:`Request` or :class:`Response`.

    Raises :class:`ProtocolViolation` naming what is wrong when the line is not a single
    JSON-RPC 2.0 message (batches are not part of this protocol).
    """
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProtocolViolation(
            f"line is not valid UTF-8 ({exc.reason} at byte {exc.start})", code=-32700
        ) from None
    stripped = text.strip()
    if not stripped:
        raise ProtocolViolation("empty line; every line on stdout must be a JSON-RPC message")
    try:
        obj = json.loads(stripped, parse_constant=_reject_constant)
    except ValueError as exc:
        raise ProtocolViolation(f"not JSON ({exc})", code=-32700) from None
    if isinstance(obj, list):
        raise ProtocolViolation("JSON-RPC batches are not part of this protocol")
    if not isinstance(obj, dict):
        raise ProtocolViolation(f"a message is a JSON object, this is a JSON {_json_type(obj)}")
    is_response = "method" not in obj
    raw_id = obj.get("id")
    response_id = raw_id if is_response and _valid_id(raw_id) else None
    if obj.get("jsonrpc") != JSONRPC_VERSION:
        raise ProtocolViolation(
            f'not a JSON-RPC 2.0 message: "jsonrpc" must be "2.0", got '
            f"{json.dumps(obj.get('jsonrpc'))}",
            response_id,
        )
    if not is_response:
        method = obj["method"]
        if not isinstance(method, str) or not method:
            raise ProtocolViolation(f'"method" must be a non-empty string, got {method!r}')
        if "id" in obj and not _valid_id(raw_id):
            raise ProtocolViolation(f'request "id" must be a string or an integer, got {raw_id!r}')
        unknown = sorted(set(obj) - {"jsonrpc", "id", "method", "params"})
        if unknown:
            raise ProtocolViolation(f"request has unknown members {unknown}")
        params = obj.get("params")
        if params is not None and not isinstance(params, dict | list):
            raise ProtocolViolation(f'"params" must be an object or an array, got {params!r}')
        return Request(raw_id if "id" in obj else None, method, params)
    if "id" not in obj:
        raise ProtocolViolation('message has neither "method" nor "id"')
    if raw_id is not None and not _valid_id(raw_id):
        raise ProtocolViolation(
            f'response "id" must be a string, an integer or null, got {raw_id!r}'
        )
    unknown = sorted(set(obj) - {"jsonrpc", "id", "result", "error"})
    if unknown:
        raise ProtocolViolation(f"response has unknown members {unknown}", response_id)
    has_result, has_error = "result" in obj, "error" in obj
    if has_result == has_error:
        which = "both" if has_result else "neither"
        raise ProtocolViolation(
            f'a response must have exactly one of "result" and "error", this one has {which}',
            response_id,
        )
    if has_result:
        return Response(raw_id, obj["result"], None)
    err = obj["error"]
    if not isinstance(err, dict):
        raise ProtocolViolation(f'"error" must be an object, got {err!r}', response_id)
    code, message = err.get("code"), err.get("message")
    if not isinstance(code, int) or isinstance(code, bool):
        raise ProtocolViolation(f'"error.code" must be an integer, got {code!r}', response_id)
    if not isinstance(message, str):
        raise ProtocolViolation(f'"error.message" must be a string, got {message!r}', response_id)
    return Response(raw_id, None, ErrorObject(code, message, err.get("data")))


# ----------------------------------------------------------------- wire values


def instant_to_wire(instant: datetime) -> str:
    """An aware instant as ISO-8601 in UTC with a ``Z``, e.g. ``2026-01-05T10:00:00Z``."""
    offset = instant.utcoffset()
    if offset is None:
        raise ValueError(f"instants on the wire must be timezone-aware, got {instant!r}")
    # Hot at fleet scale (three instants per record): plain arithmetic, no astimezone.
    return (instant.replace(tzinfo=None) - offset).isoformat() + "Z"


def dump_model(model: BaseModel) -> Any:
    """The wire JSON of a contract model (enums by name, instants ISO-8601)."""
    return model.model_dump(mode="json")


def format_validation_error(error: ValidationError, where: str) -> str:
    """A one-line description of every problem in ``error``, located under ``where``."""
    parts = []
    for item in error.errors(include_url=False):
        loc = where + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in item["loc"])
        shown = _shorten(json.dumps(item.get("input"), default=str), 80)
        parts.append(f"{loc}: {item['msg']} (got {shown})")
    return "; ".join(parts)


M = TypeVar("M", bound=BaseModel)
_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}


def load_value(annotation: Any, value: Any, where: str) -> Any:
    """Validate a decoded JSON value against ``annotation`` the way JSON is typed.

    Strict: no string-to-number or number-to-string coercion, instants must carry an
    offset. Raises :class:`WireError` whose message locates every problem.
    """
    adapter = _ADAPTERS.get(annotation)
    if adapter is None:
        adapter = _ADAPTERS[annotation] = TypeAdapter(annotation)
    try:
        text = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise WireError(f"{where}: not a JSON value ({exc})") from None
    try:
        return adapter.validate_json(text, strict=True)
    except ValidationError as exc:
        raise WireError(format_validation_error(exc, where)) from None


def load_trusted(annotation: Any, value: Any, where: str) -> Any:
    """Validate a decoded JSON value from the harness, which always sends well-typed JSON.

    Lax and without a second encoding pass, for the large answers of ``backend/*``
    polls; still raises :class:`WireError` on a mismatch.
    """
    adapter = _ADAPTERS.get(annotation)
    if adapter is None:
        adapter = _ADAPTERS[annotation] = TypeAdapter(annotation)
    try:
        return adapter.validate_python(value)
    except ValidationError as exc:
        raise WireError(format_validation_error(exc, where)) from None


def load_model(model: type[M], value: Any, where: str) -> M:
    """Validate a decoded JSON value as ``model``; see :func:`load_value`."""
    if not isinstance(value, dict):
        raise WireError(
            f"{where}: expected a JSON object ({model.__name__}), got "
            f"{_json_type(value)} {_shorten(json.dumps(value, default=str), 80)}"
        )
    result: M = load_value(model, value, where)
    return result


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


class _Params(BaseModel):
    """Base of request params: unknown members are ignored, for forward compatibility."""

    model_config = ConfigDict(frozen=True, extra="ignore")
