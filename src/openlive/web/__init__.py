"""The browser demo page: plain HTML, CSS and ES modules, no build step.

The server serves ``index.html`` at ``/`` and the other files at ``/static/<name>``. The page
speaks the Live protocol itself (docs/protocol.md), exactly like any other client of the server.
"""

from __future__ import annotations

from pathlib import Path

WEB_DIR = Path(__file__).resolve().parent
INDEX = "index.html"

# Only these files are served: a fixed list, so no request path ever reaches the file system.
MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}
STATIC_FILES: dict[str, str] = {
    path.name: MEDIA_TYPES[path.suffix]
    for path in sorted(WEB_DIR.iterdir())
    if path.suffix in MEDIA_TYPES and path.name != INDEX
}
