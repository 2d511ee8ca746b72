"""The ASGI app: WebSocket routes for the Live endpoints, REST (health), TLS set-up."""

from .app import create_app
from .runtime import Runtime

__all__ = ["Runtime", "create_app"]
