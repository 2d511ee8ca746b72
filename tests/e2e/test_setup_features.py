"""Setup fields the official clients send that openlive cannot honour, through google-genai.

Google refuses some on Live models (1008 "Operation is not implemented, or supported, or
enabled."): so does openlive. Others Google accepts: the session opens, works, and the server
log says once which were ignored. Also: every shape google-genai gives the transcription
language fields opens a session (docs/clients.md lists all of this).
"""

from __future__ import annotations

import pytest
from google.genai import errors, types

from ..genai_helpers import MODEL, client_for, receive_turn, text_config, user_text
from ..servers import ServerProcess

NOT_ENABLED = "Operation is not implemented, or supported, or enabled."


async def one_turn(server: ServerProcess, config: types.LiveConnectConfig) -> str:
    async with client_for(server).aio.live.connect(model=MODEL, config=config) as session:
        await session.send_client_content(turns=user_text("Say hello."))
        turn = await receive_turn(session)
        assert turn.events()[-1] == "turnComplete"
        return session.session_id


@pytest.mark.parametrize(
    "config",
    [
        types.LiveConnectConfig(response_modalities=[types.Modality.VIDEO]),
        types.LiveConnectConfig(response_modalities=[types.Modality.IMAGE]),
        text_config(tools=[types.Tool(code_execution=types.ToolCodeExecution())]),
        text_config(tools=[types.Tool(url_context=types.UrlContext())]),
        text_config(tools=[types.Tool(google_maps=types.GoogleMaps())]),
    ],
    ids=["video", "image", "code-execution", "url-context", "google-maps"],
)
async def test_features_google_refuses_close_1008(
    tls_server: ServerProcess, config: types.LiveConnectConfig
) -> None:
    with pytest.raises(errors.APIError) as refused:
        await one_turn(tls_server, config)
    assert refused.value.code == 1008, refused.value
    assert NOT_ENABLED in str(refused.value)


async def test_features_google_accepts_are_ignored_with_one_log_line(
    tls_server: ServerProcess,
) -> None:
    config = text_config(
        thinking_config=types.ThinkingConfig(thinking_budget=128, include_thoughts=True),
        enable_affective_dialog=True,
        proactivity=types.ProactivityConfig(proactive_audio=True),
        translation_config=types.TranslationConfig(target_language_code="fr"),
    )
    session_id = await one_turn(tls_server, config)
    lines = [line for line in tls_server.log().splitlines() if f"session {session_id}:" in line]
    assert len(lines) == 1, lines
    for name in (
        "thinkingConfig",
        "enableAffectiveDialog",
        "proactivity",
        "translationConfig",
    ):
        assert name in lines[0]

    plain = await one_turn(tls_server, text_config())
    assert f"session {plain}: not honoured" not in tls_server.log()


@pytest.mark.parametrize(
    "transcription",
    [
        types.AudioTranscriptionConfig(language_auto=types.LanguageAuto()),
        types.AudioTranscriptionConfig(
            language_hints=types.LanguageHints(language_codes=["en-US", "fr-FR"])
        ),
        types.AudioTranscriptionConfig(
            language_codes=["en-US"],
            language_auto=types.LanguageAuto(),
            language_hints=types.LanguageHints(language_codes=["en-US"]),
        ),
        {"language_auto": {}, "language_hints": {"language_codes": ["de"]}},
    ],
    ids=["auto-object", "hints-object", "all-three", "dict-form"],
)
async def test_transcription_language_fields_in_google_genais_shapes(
    tls_server: ServerProcess, transcription: types.AudioTranscriptionConfig
) -> None:
    start = len(tls_server.log())
    config = text_config(
        input_audio_transcription=transcription, output_audio_transcription=transcription
    )
    await one_turn(tls_server, config)
    assert "ignoring unknown field" not in tls_server.log()[start:]
