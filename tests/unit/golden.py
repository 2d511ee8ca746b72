"""Client frames as the official clients send them (docs/protocol.md §3.2, §4.6, §4.7).

Frames marked *verbatim* are copied from the captures; the others are rebuilt from the prose of
docs/protocol.md (the JS capture is described, not printed; Flutter is known from its source only).
"""

from __future__ import annotations

# 16-bit PCM samples 0x0100, 0x0100 and three bytes whose base64 needs "-" and "_" (URL-safe) or
# "+" and "/" (standard).
PCM_BYTES = bytes([0x00, 0x01, 0x00, 0x01, 0xFB, 0xFF, 0xBF])
PCM_URLSAFE = "AAEAAfv_vw=="
PCM_STANDARD = "AAEAAfv/vw=="
JPEG_BYTES = bytes([0xFF, 0xD8, 0xFF, 0xFF, 0xD8, 0xFF])  # "_9j__9j_" in URL-safe base64

# google-genai 3.6.1, Developer API, full config (verbatim, §4.7).
PYTHON_SETUP = """\
{"setup": {"model": "models/gemini-2.5-flash-native-audio-preview-09-2025",
  "generationConfig": {"responseModalities": ["AUDIO"], "temperature": 0.7,
    "speechConfig": {"voice_config": {"prebuilt_voice_config": {"voice_name": "Kore"}}, "language_code": "en-US"},
    "thinkingConfig": {"thinking_budget": 0}, "enableAffectiveDialog": true},
  "systemInstruction": {"parts": [{"text": "You are terse."}], "role": "user"},
  "tools": [{"googleSearch": {}}, {"functionDeclarations": [{"description": "weather", "name": "get_weather",
     "parameters": {"properties": {"city": {"type": "STRING"}}, "type": "OBJECT"}, "behavior": "NON_BLOCKING"}]}],
  "sessionResumption": {}, "inputAudioTranscription": {}, "outputAudioTranscription": {},
  "realtimeInputConfig": {"automatic_activity_detection": {"disabled": false,
     "start_of_speech_sensitivity": "START_SENSITIVITY_LOW", "end_of_speech_sensitivity": "END_SENSITIVITY_LOW",
     "prefix_padding_ms": 20, "silence_duration_ms": 100},
    "activity_handling": "START_OF_ACTIVITY_INTERRUPTS", "turn_coverage": "TURN_INCLUDES_ONLY_ACTIVITY"},
  "contextWindowCompression": {"trigger_tokens": 25600, "sliding_window": {"target_tokens": 12800}},
  "proactivity": {"proactive_audio": true}}}"""  # noqa: E501

# @google/genai 3.3.0: the same config, camelCase throughout, with a plain JSON Schema.
JS_SETUP = """\
{"setup": {"model": "models/gemini-2.5-flash-native-audio-preview-09-2025",
  "generationConfig": {"responseModalities": ["AUDIO"], "temperature": 0.7,
    "speechConfig": {"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "Kore"}}, "languageCode": "en-US"},
    "thinkingConfig": {"thinkingBudget": 0}, "enableAffectiveDialog": true},
  "systemInstruction": {"parts": [{"text": "You are terse."}], "role": "user"},
  "tools": [{"googleSearch": {}}, {"functionDeclarations": [{"description": "weather", "name": "get_weather",
     "parametersJsonSchema": {"type": "object", "properties": {"city_name": {"type": "string"}},
       "required": ["city_name"], "additionalProperties": false}, "behavior": "NON_BLOCKING"}]}],
  "sessionResumption": {"handle": "handle-from-earlier"},
  "inputAudioTranscription": {}, "outputAudioTranscription": {},
  "realtimeInputConfig": {"automaticActivityDetection": {"disabled": false,
     "startOfSpeechSensitivity": "START_SENSITIVITY_LOW", "endOfSpeechSensitivity": "END_SENSITIVITY_LOW",
     "prefixPaddingMs": 20, "silenceDurationMs": 100},
    "activityHandling": "START_OF_ACTIVITY_INTERRUPTS", "turnCoverage": "TURN_INCLUDES_ONLY_ACTIVITY"},
  "contextWindowCompression": {"triggerTokens": 25600, "slidingWindow": {"targetTokens": 12800}},
  "proactivity": {"proactiveAudio": true}}}"""  # noqa: E501

# @firebase/ai web 2.16.0 (verbatim, §4.7).
FIREBASE_WEB_SETUP = """\
{"setup": {"model": "projects/my-proj/models/gemini-live-2.5-flash-preview",
  "generationConfig": {"responseModalities": ["AUDIO"], "speechConfig": {"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "Aoede"}}}, "temperature": 0.5},
  "tools": [{"functionDeclarations": [{"name": "f", "description": "d"}]}],
  "systemInstruction": {"role": "system", "parts": [{"text": "be brief"}]},
  "inputAudioTranscription": {}, "outputAudioTranscription": {}}}"""  # noqa: E501

# Flutter firebase_ai: snake_case in places, camelCase elsewhere, explicit nulls (§3.2).
FLUTTER_SETUP = """\
{"setup": {"model": "projects/my-proj/models/gemini-2.5-flash-native-audio-preview-09-2025",
  "generation_config": {"response_modalities": ["AUDIO"], "temperature": null, "top_k": null,
    "speechConfig": {"voice_config": {"prebuilt_voice_config": {"voice_name": "Puck"}}}},
  "system_instruction": {"role": "system", "parts": [{"text": "be brief"}]},
  "tools": null, "input_audio_transcription": {}, "output_audio_transcription": null}}"""
FLUTTER_REALTIME_AUDIO = """\
{"realtime_input": {"media_chunks": null,
  "audio": {"mimeType": "audio/pcm", "data": "AAEAAfv/vw=="}, "video": null, "text": null}}"""
FLUTTER_MEDIA_CHUNKS = (
    '{"realtime_input": {"media_chunks": [{"mime_type": "audio/pcm", "data": "AAEAAfv/vw=="}]}}'
)
FLUTTER_CLIENT_CONTENT = (
    '{"client_content": {"turns": [{"role": "user", "parts": [{"text": "hi"}]}], '
    '"turn_complete": false}}'
)

# google-genai 3.6.1 calls → frames (§4.6); base64 is URL-safe with padding, like the SDK's.
PY_CLIENT_CONTENT = (
    '{"client_content": {"turns": [{"parts": [{"text": "hello"}], "role": "user"}], '
    '"turnComplete": true}}'
)
PY_AUDIO = (
    '{"realtime_input": {"audio": {"data": "AAEAAfv_vw==", "mime_type": "audio/pcm;rate=16000"}}}'
)
PY_VIDEO = '{"realtime_input": {"video": {"data": "_9j__9j_", "mime_type": "image/jpeg"}}}'
PY_MEDIA_CHUNKS = (
    '{"realtime_input": {"mediaChunks": [{"data": "AAEAAfv_vw==", "mime_type": "audio/pcm"}]}}'
)
PY_TEXT = '{"realtime_input": {"text": "typed text"}}'
PY_AUDIO_STREAM_END = '{"realtime_input": {"audioStreamEnd": true}}'
PY_ACTIVITY_START = '{"realtime_input": {"activityStart": {}}}'
PY_ACTIVITY_END = '{"realtime_input": {"activityEnd": {}}}'
PY_TOOL_RESPONSE = (
    '{"tool_response": {"functionResponses": [{"will_continue": false, "scheduling": "WHEN_IDLE", '
    '"id": "call-1", "name": "get_weather", "response": {"result": "sunny"}}]}}'
)
PY_CONTEXT_UPDATE = """\
{"contextUpdate": {"systemInstruction": {"parts": [{"text": "Be formal."}], "role": "user"},
  "tools": {"tools": [{"functionDeclarations": [{"name": "get_time", "description": "time",
    "parameters": {"type": "OBJECT", "properties": {"time_zone": {"type": "STRING"}}}}]}]}}}"""

GOLDEN_FRAMES: dict[str, str] = {
    "python_setup": PYTHON_SETUP,
    "js_setup": JS_SETUP,
    "firebase_web_setup": FIREBASE_WEB_SETUP,
    "flutter_setup": FLUTTER_SETUP,
    "flutter_realtime_audio": FLUTTER_REALTIME_AUDIO,
    "flutter_media_chunks": FLUTTER_MEDIA_CHUNKS,
    "flutter_client_content": FLUTTER_CLIENT_CONTENT,
    "py_client_content": PY_CLIENT_CONTENT,
    "py_audio": PY_AUDIO,
    "py_video": PY_VIDEO,
    "py_media_chunks": PY_MEDIA_CHUNKS,
    "py_text": PY_TEXT,
    "py_audio_stream_end": PY_AUDIO_STREAM_END,
    "py_activity_start": PY_ACTIVITY_START,
    "py_activity_end": PY_ACTIVITY_END,
    "py_tool_response": PY_TOOL_RESPONSE,
    "py_context_update": PY_CONTEXT_UPDATE,
}
