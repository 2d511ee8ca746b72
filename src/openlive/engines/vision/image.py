"""Turning untrusted image bytes into pixels, safely and no more often than needed.

Camera frames come from the network, so every frame is treated as hostile: its byte size and its
pixel count are checked before any pixel is decoded (a 50 KB PNG can claim 100,000 × 100,000
pixels), only JPEG, PNG and WebP are opened, and anything Pillow cannot decode is a
:class:`BadImage` with a reason fit for a close frame.

Two decodes exist, both meant for a worker thread:

- :func:`probe` — the cheap one, for every frame: validates the whole image and returns a 16×16
  grey thumbnail for scene-change detection. JPEGs decode at 1/8 scale (DCT scaling), which
  costs a few milliseconds even for a large frame.
- :func:`decode` — the full one, only for frames that will be analysed: RGB, turned upright
  (EXIF orientation), longest side at most the analysis resolution.

:func:`warm_up`, at load, imports the Pillow plugins both need, so no frame imports them.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

FORMATS = ("JPEG", "PNG", "WEBP")
MAX_BYTES = 16 * 1024 * 1024
MAX_PIXELS = 40_000_000
THUMB_SIZE = 16

# What Pillow raises on damaged or hostile data, besides its own error types.
_DECODE_ERRORS = (
    OSError,
    ValueError,
    SyntaxError,
    EOFError,
    IndexError,
    TypeError,
    KeyError,
    ZeroDivisionError,
    MemoryError,
    Image.DecompressionBombError,
)


class BadImage(ValueError):
    """The bytes are not an image we accept; ``str(error)`` is a reason for the client."""


@dataclass(frozen=True)
class ImageLimits:
    max_bytes: int = MAX_BYTES
    max_pixels: int = MAX_PIXELS


@dataclass(frozen=True)
class Probe:
    width: int
    height: int
    format: str
    thumbnail: np.ndarray
    """THUMB_SIZE × THUMB_SIZE grey levels (float32, 0–255), for :func:`scene_distance`."""

    @property
    def brightness(self) -> float:
        return float(self.thumbnail.mean())


def warm_up() -> None:
    """Import now what Pillow imports on first use, for :func:`probe` and :func:`decode`.

    Pillow registers its format plugins lazily: the first ``Image.open`` imports the common ones,
    and the first frame that is neither JPEG nor PNG (WebP, or junk) imports all of them (about
    50 modules, TIFF's among them, which also reads a JPEG's EXIF). On a server that happened
    on a worker thread during the first such camera frame, holding the GIL, and so the event
    loop, for 100-500 ms (measured under bench/fuzz.py on 2 cores, without cached bytecode).
    Called once while the vision engine loads."""
    Image.init()


def check_size(data: bytes, limits: ImageLimits) -> None:
    """The byte-size check alone: cheap enough for the event loop."""
    if not data:
        raise BadImage("Invalid image: the frame is empty.")
    if len(data) > limits.max_bytes:
        raise BadImage(f"Image too large: {len(data)} bytes (limit {limits.max_bytes} bytes).")


def open_image(data: bytes, limits: ImageLimits) -> Image.Image:
    """Read the header only, and refuse what is too big before any pixel is decoded."""
    check_size(data, limits)
    try:
        image = Image.open(io.BytesIO(data), formats=FORMATS)
    except Image.DecompressionBombError:
        raise BadImage(f"Image too large (limit {limits.max_pixels // 1_000_000} MP).") from None
    except (UnidentifiedImageError, *_DECODE_ERRORS):
        raise BadImage("Invalid image data: not a decodable JPEG, PNG or WebP image.") from None
    width, height = image.size
    if width < 1 or height < 1:
        raise BadImage("Invalid image: it has no pixels.")
    if width * height > limits.max_pixels:
        raise BadImage(
            f"Image too large: {width}x{height} pixels (limit {limits.max_pixels // 1_000_000} MP)."
        )
    return image


def probe(data: bytes, limits: ImageLimits) -> Probe:
    """Validate the whole frame and make its scene-change thumbnail (cheaply)."""
    image = open_image(data, limits)
    width, height, kind = image.width, image.height, image.format or ""
    try:
        image.draft("L", (THUMB_SIZE * 4, THUMB_SIZE * 4))  # JPEG only: decode at 1/8 scale
        grey = _to_mode(image, "L")
        small = grey.resize((THUMB_SIZE, THUMB_SIZE), Image.Resampling.BOX)
        thumbnail = np.asarray(small, dtype=np.float32)
    except _DECODE_ERRORS:
        raise BadImage("Invalid image data: the frame could not be decoded.") from None
    finally:
        image.close()
    return Probe(width, height, kind, thumbnail)


def decode(data: bytes, limits: ImageLimits, max_side: int) -> Image.Image:
    """The frame as upright RGB pixels, its longest side at most ``max_side``."""
    image = open_image(data, limits)
    try:
        scale = max_side / max(image.size)
        if scale < 1:
            # JPEG: let the decoder shrink by 1/2, 1/4 or 1/8 while staying at least this big.
            image.draft("RGB", (int(image.width * scale), int(image.height * scale)))
        upright = ImageOps.exif_transpose(image)
        rgb = _to_mode(upright, "RGB")
        if max(rgb.size) > max_side:
            rgb.thumbnail((max_side, max_side), Image.Resampling.BILINEAR)
        return rgb
    except _DECODE_ERRORS:
        raise BadImage("Invalid image data: the frame could not be decoded.") from None


def scene_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute grey-level difference of two thumbnails (0 = identical, 255 = inverted)."""
    return float(np.abs(a - b).mean())


def _to_mode(image: Image.Image, mode: str) -> Image.Image:
    if getattr(image, "n_frames", 1) > 1:
        image.seek(0)  # an animation: its first frame
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        # Transparent pixels over white, as a viewer would show them.
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert(mode)
    if image.mode.startswith("I;16") or image.mode in ("I", "F"):
        array = np.asarray(image, dtype=np.float32)
        peak = float(array.max()) or 1.0
        image = Image.fromarray((array * (255.0 / peak)).clip(0, 255).astype(np.uint8), "L")
    return image.convert(mode)
