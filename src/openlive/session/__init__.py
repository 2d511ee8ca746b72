"""One LiveSession per connection: consumes decoded client messages, produces server messages.

It knows no transport: the server moves frames between the socket and the session's outbox.
"""

from .live import LiveSession
from .outbox import Close, Outbox, Outgoing
from .services import SessionServices, SpeechServices, VisionServices

__all__ = [
    "Close",
    "LiveSession",
    "Outbox",
    "Outgoing",
    "SessionServices",
    "SpeechServices",
    "VisionServices",
]
