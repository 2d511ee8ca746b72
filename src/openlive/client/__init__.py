"""openlive's Python client for the Gemini Live protocol (openlive or Google's hosted service).

    from openlive.client import LiveModel

    async with LiveModel(response_modalities=["TEXT"]).connect() as session:
        await session.send("Hello!")
        async for message in session.receive_turn():
            print(message)

Voice: ``await session.start_audio_conversation()`` (microphone and speakers via PortAudio, or
``WavFileInput`` / ``WavFileOutput``).
"""

from .audio import AudioInput, AudioOutput, WavFileInput, WavFileOutput
from .conversation import AudioConversation, FunctionCallHandler
from .devices import Microphone, Speaker
from .errors import (
    AudioDeviceError,
    InvalidRequestError,
    LiveConnectionClosed,
    LiveConnectionError,
    LiveError,
    NotSupportedError,
    ServerError,
)
from .model import DEFAULT_MODEL, DEFAULT_URL, LiveModel
from .session import LiveSession
from .sync import SyncLiveSession
from .types import (
    Blob,
    Content,
    FunctionCall,
    FunctionDeclaration,
    FunctionResponse,
    GenerationComplete,
    GoAway,
    Interrupted,
    LiveMessage,
    Part,
    SessionResumptionUpdate,
    ToolCall,
    ToolCallCancellation,
    Transcription,
    TurnComplete,
    Usage,
)

__all__ = [
    "DEFAULT_MODEL",
    "DEFAULT_URL",
    "AudioConversation",
    "AudioDeviceError",
    "AudioInput",
    "AudioOutput",
    "Blob",
    "Content",
    "FunctionCall",
    "FunctionCallHandler",
    "FunctionDeclaration",
    "FunctionResponse",
    "GenerationComplete",
    "GoAway",
    "Interrupted",
    "InvalidRequestError",
    "LiveConnectionClosed",
    "LiveConnectionError",
    "LiveError",
    "LiveMessage",
    "LiveModel",
    "LiveSession",
    "Microphone",
    "NotSupportedError",
    "Part",
    "ServerError",
    "SessionResumptionUpdate",
    "Speaker",
    "SyncLiveSession",
    "ToolCall",
    "ToolCallCancellation",
    "Transcription",
    "TurnComplete",
    "Usage",
    "WavFileInput",
    "WavFileOutput",
]
