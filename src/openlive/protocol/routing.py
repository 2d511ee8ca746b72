"""Which endpoint a WebSocket path names, and which credentials the upgrade request carries.

Routing is on the path *suffix* (docs/protocol.md §2.4) so openlive works behind a path prefix,
and a leading ``//`` (which @google/genai produces for a custom base URL) is harmless.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum


class Surface(Enum):
    GEMINI = "gemini"  # Gemini Developer API
    VERTEX = "vertex"
    FIREBASE_GOOGLE_AI = "firebase-googleai"
    FIREBASE_VERTEX = "firebase-vertex"


@dataclass(frozen=True)
class Route:
    surface: Surface
    api_version: str
    constrained: bool = False  # ...BidiGenerateContentConstrained: ephemeral tokens
    location: str | None = None

    @property
    def uses_vertex_usage_names(self) -> bool:
        return self.surface in (Surface.VERTEX, Surface.FIREBASE_VERTEX)


_VERSION = r"(?P<version>v\d+(?:alpha|beta)?\d*)"
_ROUTES: list[tuple[re.Pattern[str], Surface]] = [
    (
        re.compile(
            rf"/ws/google\.ai\.generativelanguage\.{_VERSION}\.GenerativeService\."
            r"BidiGenerateContent(?P<constrained>Constrained)?$"
        ),
        Surface.GEMINI,
    ),
    (
        re.compile(
            rf"/ws/google\.cloud\.aiplatform\.{_VERSION}\.LlmBidiService/BidiGenerateContent$"
        ),
        Surface.VERTEX,
    ),
    (
        re.compile(
            rf"/ws/google\.firebase\.vertexai\.{_VERSION}\.GenerativeService/BidiGenerateContent$"
        ),
        Surface.FIREBASE_GOOGLE_AI,
    ),
    (
        re.compile(
            rf"/ws/google\.firebase\.vertexai\.{_VERSION}\.LlmBidiService/BidiGenerateContent"
            r"/locations/(?P<location>[^/]+)$"
        ),
        Surface.FIREBASE_VERTEX,
    ),
]


def route_for_path(path: str) -> Route | None:
    """The endpoint ``path`` names, or ``None`` if it is not a Live endpoint."""
    normalized = "/" + re.sub(r"/{2,}", "/", path).strip("/")
    for pattern, surface in _ROUTES:
        match = pattern.search(normalized)
        if match is not None:
            groups = match.groupdict()
            return Route(
                surface=surface,
                api_version=groups["version"],
                constrained=bool(groups.get("constrained")),
                location=groups.get("location"),
            )
    return None


@dataclass(frozen=True)
class Credentials:
    api_key: str | None = None
    token: str | None = None  # an ephemeral ``auth_tokens/...`` or an OAuth/Firebase bearer token

    @property
    def any(self) -> list[str]:
        return [value for value in (self.api_key, self.token) if value]


_AUTH_SCHEMES = ("bearer", "token", "firebase")


def credentials_from(query: Mapping[str, str], headers: Mapping[str, str]) -> Credentials:
    """Credentials in every form the clients send them (docs/protocol.md §2.1–2.3).

    ``headers`` must be case-insensitive (Starlette's are).
    """
    api_key = query.get("key") or headers.get("x-goog-api-key") or None
    token = query.get("access_token") or None
    authorization = headers.get("authorization", "")
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() in _AUTH_SCHEMES and value.strip():
        token = token or value.strip()
    # google-genai sends an ephemeral token in x-goog-api-key as well as in Authorization.
    if api_key and api_key.startswith("auth_tokens/"):
        token, api_key = token or api_key, None
    return Credentials(api_key=api_key, token=token)


def bare_model_name(model: str) -> str:
    """``models/x``, ``projects/p/.../publishers/google/models/x``, ``tunedModels/x`` → ``x``."""
    for marker in ("/models/", "models/", "tunedModels/"):
        index = model.rfind(marker)
        if index != -1 and (marker != "models/" or index == 0):
            return model[index + len(marker) :]
    return model
