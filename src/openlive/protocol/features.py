"""Setup features openlive cannot honour: refused like Google, or accepted and logged once.

Where Google's Live models refuse a feature, openlive refuses it the same way (1008 with Google's
wording) so a program learns the truth at once. Where Google would accept it and we cannot do it
(there is no thinking, no emotion-aware voice, no proactive speech, no translation model), the
session opens as at Google and one log line per session says what is ignored. The list is in
docs/clients.md; keep the two in step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .client_messages import Setup
from .errors import CloseCode, ProtocolError

NOT_ENABLED = "Operation is not implemented, or supported, or enabled."


@dataclass(frozen=True)
class Feature:
    name: str  # as the client wrote it, for the log line and the docs
    asked: Callable[[Setup], bool]


def _modality(*names: str) -> Callable[[Setup], bool]:
    return lambda setup: any(m in names for m in setup.generation_config.response_modalities)


def _tool(field: str) -> Callable[[Setup], bool]:
    return lambda setup: any(getattr(tool, field) is not None for tool in setup.tools)


# Google refuses these on Live models (VIDEO is for Vertex avatars only; the Live tool list is
# function calling and Google Search): 1008.
REFUSED: tuple[Feature, ...] = (
    Feature("responseModalities VIDEO", _modality("VIDEO")),
    Feature("responseModalities IMAGE", _modality("IMAGE")),
    Feature("tools.codeExecution", _tool("code_execution")),
    Feature("tools.urlContext", _tool("url_context")),
    Feature("tools.googleMaps", _tool("google_maps")),
)

# Google accepts these; the session runs without them.
IGNORED: tuple[Feature, ...] = (
    Feature(
        "generationConfig.thinkingConfig", lambda s: s.generation_config.thinking_config is not None
    ),
    Feature(
        "generationConfig.enableAffectiveDialog",
        lambda s: bool(s.generation_config.enable_affective_dialog),
    ),
    Feature(
        "proactivity",
        lambda s: bool(
            s.proactivity and (s.proactivity.proactive_audio or s.proactivity.proactive_video)
        ),
    ),
    Feature(
        "generationConfig.translationConfig",
        lambda s: s.generation_config.translation_config is not None,
    ),
    Feature(
        "speechConfig.multiSpeakerVoiceConfig",
        lambda s: bool(
            s.generation_config.speech_config
            and s.generation_config.speech_config.multi_speaker_voice_config is not None
        ),
    ),
)


def refuse_unsupported(setup: Setup) -> None:
    """Close with 1008, as Google does, when the setup asks for a feature Live refuses."""
    for feature in REFUSED:
        if feature.asked(setup):
            raise ProtocolError(NOT_ENABLED, CloseCode.POLICY_VIOLATION)


def ignored_features(setup: Setup) -> list[str]:
    """The accepted features this session asks for and will not get (for one log line)."""
    return [feature.name for feature in IGNORED if feature.asked(setup)]
