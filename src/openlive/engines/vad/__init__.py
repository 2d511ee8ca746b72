"""Voice activity detection: speech probability per 32 ms frame of 16 kHz audio."""

from .silero import FRAME_SAMPLES, SAMPLE_RATE, SileroVAD, VADStream, bundled_model_path

__all__ = ["FRAME_SAMPLES", "SAMPLE_RATE", "SileroVAD", "VADStream", "bundled_model_path"]
