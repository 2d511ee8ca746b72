"""google-genai (Python) used exactly as a user would: public API, TLS trusted via SSL_CERT_FILE."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from google import genai
from google.genai import types

from .servers import ServerProcess

MODEL = "gemini-live-2.5-flash"


def client_for(
    server: ServerProcess, api_key: str = "test-key", api_version: str = "v1beta", **http: Any
) -> genai.Client:
    # The SDK builds its SSL context from SSL_CERT_FILE when it connects.
    os.environ["SSL_CERT_FILE"] = str(server.cert_bundle)
    options = types.HttpOptions(base_url=server.http_url, api_version=api_version, **http)
    return genai.Client(api_key=api_key, http_options=options)


def text_config(**overrides: Any) -> types.LiveConnectConfig:
    # The placeholder model rambles; a short cap keeps the suite quick.
    overrides.setdefault("max_output_tokens", 60)
    return types.LiveConnectConfig(response_modalities=[types.Modality.TEXT], **overrides)


@dataclass
class Turn:
    """Everything ``receive()`` yielded for one model turn, in order."""

    messages: list[types.LiveServerMessage] = field(default_factory=list)

    @property
    def texts(self) -> list[str]:
        return [
            part.text
            for m in self.messages
            if m.server_content and m.server_content.model_turn
            for part in m.server_content.model_turn.parts or []
            if part.text
        ]

    @property
    def text(self) -> str:
        return "".join(self.texts)

    def events(self) -> list[str]:
        """The order of turn events: text, generationComplete, interrupted, turnComplete."""
        order: list[str] = []
        for m in self.messages:
            content = m.server_content
            if content is None:
                continue
            if content.model_turn:
                order.append("text")
            if content.interrupted:
                order.append("interrupted")
            if content.generation_complete:
                order.append("generationComplete")
            if content.turn_complete:
                order.append("turnComplete")
        return order

    @property
    def last(self) -> types.LiveServerMessage:
        return self.messages[-1]


async def receive_turn(session: Any) -> Turn:
    """``receive()`` stops on its own after the message carrying ``turnComplete``."""
    turn = Turn()
    async for message in session.receive():
        turn.messages.append(message)
    return turn


def user_text(text: str) -> types.Content:
    return types.Content(role="user", parts=[types.Part(text=text)])


def requests_containing(server: ServerProcess, needle: str) -> list[dict]:
    return [
        request
        for request in server.llm_requests()
        if any(needle in (m.get("content") or "") for m in request["messages"])
    ]
