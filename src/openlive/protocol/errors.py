"""Close codes and the errors that end a session, worded like Google's where the wording is
known."""

from __future__ import annotations

from enum import IntEnum

MAX_REASON_BYTES = (
    123  # RFC 6455: a close frame's payload is at most 125 bytes, 2 of them the code.
)


class CloseCode(IntEnum):
    NORMAL = 1000
    GOING_AWAY = 1001
    INVALID_PAYLOAD = 1007  # bad request, bad key, bad data
    POLICY_VIOLATION = 1008  # unknown model, unsupported operation, stale handle
    INTERNAL_ERROR = 1011


def truncate_reason(reason: str) -> str:
    """Cut ``reason`` to at most 123 UTF-8 bytes without splitting a character."""
    # "replace": a reason may quote client text, which can hold lone surrogates.
    encoded = reason.encode("utf-8", errors="replace")
    if len(encoded) <= MAX_REASON_BYTES:
        return encoded.decode("utf-8")
    return encoded[:MAX_REASON_BYTES].decode("utf-8", errors="ignore")


class ProtocolError(Exception):
    """Something the client sent that ends the session with a close code and a reason."""

    def __init__(self, reason: str, code: CloseCode = CloseCode.INVALID_PAYLOAD) -> None:
        self.code = code
        self.reason = truncate_reason(reason)
        super().__init__(self.reason)


def invalid_json(detail: str) -> ProtocolError:
    return ProtocolError(f"Invalid JSON payload received. {detail}")


def unknown_field(name: str, path: str) -> ProtocolError:
    where = f" at '{path}'" if path else ""
    return invalid_json(f'Unknown name "{name}"{where}: Cannot find field.')


def model_not_found(model: str, api_version: str) -> ProtocolError:
    return ProtocolError(
        f"{model} is not found for API version {api_version}, or is not supported for "
        "bidiGenerateContent. Call ModelService.ListModels to see the list of available models "
        "and their supported methods.",
        CloseCode.POLICY_VIOLATION,
    )


INVALID_API_KEY = ProtocolError("API key not valid. Please pass a valid API key.")
INTERNAL_ERROR_REASON = "Internal error encountered."
UNAVAILABLE_REASON = "The service is currently unavailable."
