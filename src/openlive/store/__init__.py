"""Session state that outlives connections and processes: SQLite by default, Redis for clusters.

Records are JSON documents under a key, each with an expiry. Writes return only once durable:
a resumption handle is handed to a client after its state is safely stored.
"""

from .base import SessionStore
from .factory import open_store

__all__ = ["SessionStore", "open_store"]
