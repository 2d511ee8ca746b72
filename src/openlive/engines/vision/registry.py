"""Map the vision settings to an engine: the operator's VLM when one is set, else the embedded
OCR + objects + faces stack on the installed models."""

from __future__ import annotations

from ...assets.layout import VisionAssets
from ...settings import Settings
from ..llm.model_source import ModelNotFound, resolve_gguf
from .base import VisionEngine, VisionError
from .embedded import EmbeddedVision, EmbeddedVisionOptions
from .vlm import VLMVision


def create_vision_engine(settings: Settings, assets: VisionAssets | None = None) -> VisionEngine:
    if settings.vision_model:
        if not settings.vision_mmproj:
            raise VisionError(
                "OPENLIVE_VISION_MODEL needs OPENLIVE_VISION_MMPROJ (its mmproj file)"
            )
        try:
            model = resolve_gguf(settings.vision_model, settings.models_dir)
            mmproj = resolve_gguf(settings.vision_mmproj, settings.models_dir)
        except ModelNotFound as error:
            raise VisionError(str(error)) from error
        return VLMVision(model.path, mmproj.path, threads=settings.llm_threads)
    if assets is None:
        raise VisionError("the embedded vision stack needs its installed models")
    return EmbeddedVision(
        assets,
        EmbeddedVisionOptions(
            threads=settings.vision_threads,
            objects=settings.vision_objects,
            faces=settings.vision_faces,
            text=settings.vision_text,
            object_threshold=settings.vision_object_threshold,
            face_threshold=settings.vision_face_threshold,
            text_threshold=settings.vision_text_threshold,
        ),
    )
