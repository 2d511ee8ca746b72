"""Camera frames for the vision tests and benchmark: text rendered with a system font (DejaVu, from
fonts-dejavu-core), and photos from the installed vision models' samples (the npm package
@vladmandic/human ships them; `openlive models install` keeps two)."""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from openlive.assets import AssetsMissing, InstallFailed, VisionAssets, ensure_vision_assets
from openlive.settings import Settings

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))

SIGN_TEXT = "STOP"
RECEIPT_LINES = (
    "CORNER CAFE",
    "Latte 4.50",
    "Croissant 3.25",
    "Orange juice 2.80",
    "TOTAL 10.55",
)


@cache
def _install() -> VisionAssets | str:
    try:
        return ensure_vision_assets(Settings().models_dir, progress=False)
    except (AssetsMissing, InstallFailed) as error:
        return str(error)


def vision_assets() -> VisionAssets:
    assets = _install()
    if isinstance(assets, str):
        pytest.fail(f"vision models unavailable: {assets}")
    return assets


def font(name: str, size: int) -> ImageFont.FreeTypeFont:
    for folder in FONT_DIRS:
        if (folder / name).exists():
            return ImageFont.truetype(str(folder / name), size)
    pytest.skip(f"font {name} not installed (apt install fonts-dejavu-core)")


def jpeg(image: Image.Image, quality: int = 85) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def sign(text: str = SIGN_TEXT, size: int = 768) -> Image.Image:
    """A red octagon with white letters on a green background, like a road sign photo."""
    image = Image.new("RGB", (size, size), (90, 120, 90))
    draw = ImageDraw.Draw(image)
    centre = size // 2
    draw.regular_polygon((centre, centre, size * 0.33), 8, rotation=22.5, fill=(200, 20, 20))
    letters = font("DejaVuSans-Bold.ttf", size // 5)
    draw.text((centre, centre), text, font=letters, fill="white", anchor="mm")
    return image


def receipt(lines: tuple[str, ...] = RECEIPT_LINES, size: int = 768) -> Image.Image:
    """A paper receipt on a dark table: a shop name, items with prices, a total."""
    image = Image.new("RGB", (size, size), (60, 60, 60))
    draw = ImageDraw.Draw(image)
    draw.rectangle((size * 0.2, size * 0.05, size * 0.8, size * 0.95), fill=(245, 245, 240))
    mono = font("DejaVuSansMono.ttf", size // 30)
    y = size * 0.1
    for line in lines:
        name, _, price = line.rpartition(" ")
        if name and price.replace(".", "").isdigit():  # the price right-aligned, as printed
            draw.text((size * 0.24, y), name, font=mono, fill=(20, 20, 20))
            draw.text((size * 0.76, y), price, font=mono, fill=(20, 20, 20), anchor="ra")
        else:
            draw.text((size * 0.24, y), line, font=mono, fill=(20, 20, 20))
        y += size * 0.1
    return image


def dinner(size: int = 768) -> Image.Image:
    """A man at a restaurant table with a cup (a thumbnail in the package's samples photo)."""
    photo = Image.open(vision_assets().samples_dir / "samples.jpg").convert("RGB")
    crop = photo.crop((325, 0, 540, 160))
    return crop.resize((size, size * 160 // 215), Image.Resampling.BICUBIC)


def smiling_face() -> Image.Image:
    """One smiling face, filling most of the frame."""
    photo = Image.open(vision_assets().samples_dir / "faces.jpg").convert("RGB")
    return photo.crop((5, 345, 160, 500)).resize((480, 480), Image.Resampling.BICUBIC)


def plain(colour: tuple[int, int, int], size: int = 768) -> Image.Image:
    return Image.new("RGB", (size, size), colour)


def huge_png(width: int = 10_000, height: int = 5_000) -> bytes:
    """50 megapixels in a few kilobytes: a decompression bomb in miniature."""
    buffer = io.BytesIO()
    Image.new("1", (width, height), 0).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
