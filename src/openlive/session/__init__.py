"""One LiveSession per connection: consumes decoded client messages, produces server messages.

It knows no transport: the server moves frames between the socket and the session's outbox.
"""

from .live import LiveSession, SessionServices
from .outbox import Close, Outbox, Outgoing

__all__ = ["Close", "LiveSession", "Outbox", "Outgoing", "SessionServices"]
