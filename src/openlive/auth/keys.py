"""API key checks. Keys are compared in constant time and never logged."""

from __future__ import annotations

import hmac


def key_is_valid(candidate: str, keys: list[str]) -> bool:
    # Compare against every key, even after a match, so timing says nothing about which one.
    matched = False
    for key in keys:
        matched |= hmac.compare_digest(candidate.encode(), key.encode())
    return matched
