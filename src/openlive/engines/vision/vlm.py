"""An operator-supplied vision-language model (a SmolVLM-class GGUF plus its ``mmproj`` file) on
the embedded llama.cpp runtime, used instead of the embedded stack when configured.

It is slow on a CPU (~6 s per 512-px frame on 2 threads), so it only runs on demand, when a
user turn ends, never in the background. Frames are shrunk to at most 512 px first: larger ones
are cut into more tiles, each costing as much again. The request is an OpenAI chat-completions
dict with an ``image_url`` part, so the same code would talk to any multimodal server."""

from __future__ import annotations

import base64
import io
import secrets
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image

from ..llm.base import deltas_from_chunk
from .base import VisionError
from .scene import SceneDescription

MAX_SIDE = 512
PROMPT = (
    "Describe what this camera frame shows in one or two short sentences: the main objects, "
    "people and what they do. If there is any legible text, quote it exactly."
)


class VLMVision:
    analyses_in_background = False

    def __init__(
        self,
        model: Path,
        mmproj: Path,
        *,
        threads: int = 2,
        context: int = 4096,
        max_tokens: int = 96,
        server_factory: Callable[[Any], Any] | None = None,
    ) -> None:
        self.model = model
        self.mmproj = mmproj
        self.threads = threads
        self.context = context
        self.max_tokens = max_tokens
        self.description = f"{model.name} + {mmproj.name} (vision-language model, llama.cpp)"
        self._server_factory = server_factory
        self._server: Any = None
        self._lock = threading.Lock()  # one frame at a time: a second would only queue in C++

    def params(self) -> Any:
        """The runtime's parameters: the model, its multimodal projector, CPU threads."""
        import xllamacpp

        params = xllamacpp.CommonParams()
        params.model.path = str(self.model)
        params.mmproj.path = str(self.mmproj)
        params.n_parallel = 1
        params.n_ctx = self.context
        params.cpuparams.n_threads = self.threads
        params.cpuparams_batch.n_threads = self.threads
        params.warmup = True
        params.verbosity = -1
        params.api_keys = [secrets.token_urlsafe(24)]  # its loopback HTTP port stays locked
        return params

    def load(self) -> None:
        for path in (self.model, self.mmproj):
            if not path.is_file():
                raise VisionError(f"vision model file not found: {path}")
        factory = self._server_factory
        if factory is None:
            import xllamacpp

            factory = xllamacpp.Server
        try:
            self._server = factory(self.params())
        except Exception as error:  # the binding raises plain RuntimeError/ValueError
            raise VisionError(f"could not load {self.model} with {self.mmproj}: {error}") from error

    def request(self, image: Image.Image) -> dict[str, Any]:
        frame = image.convert("RGB")
        if max(frame.size) > MAX_SIDE:
            frame = frame.copy()
            frame.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.BILINEAR)
        buffer = io.BytesIO()
        frame.save(buffer, format="JPEG", quality=90)
        url = "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
        return {
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": PROMPT},
                        {"type": "image_url", "image_url": {"url": url}},
                    ],
                }
            ],
            "stream": True,
            "max_tokens": self.max_tokens,
            "temperature": 0.0,
        }

    def describe(self, image: Image.Image) -> SceneDescription:
        if self._server is None:
            raise VisionError("the vision-language model is not loaded")
        pieces: list[str] = []
        errors: list[str] = []

        def on_chunk(chunk: dict[str, Any]) -> bool:
            if chunk.get("error"):
                errors.append(str(chunk["error"]))
                return True
            pieces.extend(delta.text for delta in deltas_from_chunk(chunk))
            return False

        with self._lock:
            result = self._server.handle_chat_completions(self.request(image), on_chunk)
        if isinstance(result, dict) and result.get("error"):
            errors.append(str(result["error"]))
        if errors:
            raise VisionError(f"the vision-language model failed: {errors[0][:200]}")
        return SceneDescription(caption=" ".join("".join(pieces).split()))
