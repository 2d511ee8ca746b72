"""Base64 as the clients send it: standard or URL-safe alphabet, padded or not."""

from __future__ import annotations

import base64
import binascii

_URLSAFE_TO_STANDARD = str.maketrans("-_", "+/")


def decode_lenient(text: str) -> bytes:
    """Decode either alphabet, with or without padding. Raises ``ValueError`` on anything else."""
    cleaned = "".join(text.split()).translate(_URLSAFE_TO_STANDARD).rstrip("=")
    if len(cleaned) % 4 == 1:
        raise ValueError("truncated base64")
    try:
        return base64.b64decode(cleaned + "=" * (-len(cleaned) % 4), validate=True)
    except binascii.Error as error:
        raise ValueError(str(error)) from None


def encode_standard(data: bytes) -> str:
    """The hosted service's output form: standard alphabet, padded (``atob`` needs it)."""
    return base64.b64encode(data).decode("ascii")
