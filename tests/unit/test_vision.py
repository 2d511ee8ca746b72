"""Camera frames: safe decoding, the engines on known pictures, the text the LLM reads, the
scene rules of a session's camera, the VLM path up to the runtime, and the model install."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from openlive.assets import AssetsMissing, vision_assets
from openlive.assets.tfjs_onnx import UnsupportedGraph, convert
from openlive.engines.vision import (
    BadImage,
    Detection,
    FaceReading,
    ImageLimits,
    SceneDescription,
    VisionError,
    create_vision_engine,
    decode,
    probe,
    scene_distance,
)
from openlive.engines.vision.embedded import EmbeddedVision
from openlive.engines.vision.text import TextBox, join_lines
from openlive.engines.vision.vlm import VLMVision
from openlive.protocol.errors import ProtocolError
from openlive.session import VisionServices
from openlive.session.camera import (
    Camera,
    analysis_resolution,
    attach_note,
    camera_tokens,
    format_note,
)
from openlive.settings import Settings

from .. import frames


def png(image: Image.Image, **options: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", **options)
    return buffer.getvalue()


# -- the text the LLM reads ---------------------------------------------------------------------


def test_a_scene_reads_as_one_line_with_counts_expressions_and_quoted_text() -> None:
    box = (0.0, 0.0, 0.1, 0.1)
    scene = SceneDescription(
        objects=[
            Detection("cup", 0.9, box),
            Detection("laptop", 0.8, box),
            Detection("cup", 0.7, box),
        ],
        faces=[FaceReading(0.95, "happy", 0.8, 0.3)],
        text_lines=["STOP"],
    )
    assert scene.as_text() == 'objects: 2 cups, laptop; faces: 1 (happy); text visible: "STOP"'


def test_plurals_and_empty_scenes() -> None:
    box = (0.0, 0.0, 0.1, 0.1)
    people = SceneDescription(objects=[Detection("person", 0.9, box)] * 3)
    assert people.as_text() == "objects: 3 people"
    assert SceneDescription(objects=[Detection("wine glass", 0.9, box)] * 2).as_text() == (
        "objects: 2 wine glasses"
    )
    assert SceneDescription().as_text() == "nothing recognised"
    assert SceneDescription(dark=True).as_text() == "the image is very dark"
    assert SceneDescription(caption=" A cat on a sofa. ").as_text() == "A cat on a sofa."


def test_words_on_one_visual_line_join_left_to_right() -> None:
    boxes = [
        TextBox("4.50", 0.99, left=300, top=101, bottom=121),
        TextBox("Latte", 0.99, left=10, top=100, bottom=120),
        TextBox("CAFE", 0.99, left=10, top=40, bottom=70),
        TextBox("TOTAL", 0.99, left=10, top=160, bottom=180),
    ]
    assert join_lines(boxes) == ["CAFE", "Latte 4.50", "TOTAL"]


def test_notes_go_just_before_the_users_message_and_count_as_image_tokens() -> None:
    entries: list[dict[str, Any]] = [
        {"role": "user", "content": "hello"},
        {"role": "assistant", "content": "hi"},
        {"role": "user", "content": "what is this?"},
    ]
    before = [dict(entry) for entry in entries[:2]]
    assert attach_note(entries, "[camera] objects: cup")
    assert entries[:2] == before  # older entries untouched
    assert entries[2:] == [
        {"role": "user", "content": "[camera] objects: cup"},
        {"role": "user", "content": "what is this?"},
    ]
    assert camera_tokens(entries, lambda entry: len(entry["content"])) == len(
        "[camera] objects: cup"
    )
    assert not attach_note([{"role": "assistant", "content": "x"}], "[camera] y")

    two = format_note([SceneDescription(text_lines=["A"]), SceneDescription(dark=True)])
    assert two == (
        "[camera] 2 scenes during this turn, oldest first:\n"
        '1. text visible: "A"\n'
        "2. the image is very dark"
    )


# -- decoding untrusted frames ------------------------------------------------------------------


LIMITS = ImageLimits()


def test_garbage_empty_and_truncated_frames_are_bad_images() -> None:
    jpeg = frames.jpeg(frames.receipt())
    for data, message in [
        (b"", "empty"),
        (b"not an image at all", "not a decodable"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 64, "not a decodable"),
        (jpeg[: len(jpeg) * 3 // 4], "could not be decoded"),
    ]:
        with pytest.raises(BadImage, match=message):
            probe(data, LIMITS)


def test_size_and_pixel_limits_apply_before_any_pixel_is_decoded() -> None:
    bomb = frames.huge_png()
    assert len(bomb) < 100_000
    started = time.perf_counter()
    with pytest.raises(BadImage, match=r"Image too large: 10000x5000 pixels \(limit 40 MP\)"):
        probe(bomb, LIMITS)
    assert time.perf_counter() - started < 0.5
    small = frames.jpeg(frames.sign())
    with pytest.raises(BadImage, match=r"Image too large: \d+ bytes"):
        probe(small, ImageLimits(max_bytes=len(small) - 1))
    with pytest.raises(BadImage, match="pixels"):
        decode(small, ImageLimits(max_pixels=100), 768)


def test_only_jpeg_png_and_webp_are_opened() -> None:
    image = frames.plain((10, 200, 10), 64)
    for kind in ("WEBP", "PNG", "JPEG"):
        buffer = io.BytesIO()
        image.save(buffer, format=kind)
        assert probe(buffer.getvalue(), LIMITS).format == kind
    for kind in ("GIF", "BMP", "TIFF"):
        buffer = io.BytesIO()
        image.save(buffer, format=kind)
        with pytest.raises(BadImage):
            probe(buffer.getvalue(), LIMITS)


def test_after_the_warm_up_no_frame_imports_a_module(tmp_path: Path) -> None:
    """Pillow imports its plugins on first use (all of them for the first frame that is not
    JPEG or PNG): in a worker thread that held the event loop 100-500 ms. After ``warm_up``
    (at load) frames of every kind, and junk, import nothing. A fresh interpreter: this one's
    Pillow has long imported everything."""
    rotated = frames.plain((10, 200, 10), 64)
    exif = rotated.getexif()
    exif[0x0112] = 6  # orientation: rotate on decode
    samples = []
    for kind, extra in (("JPEG", {"exif": exif.tobytes()}), ("PNG", {}), ("WEBP", {})):
        buffer = io.BytesIO()
        rotated.save(buffer, format=kind, **extra)
        samples.append(buffer.getvalue())
    samples += [b"not an image at all", b"RIFF\x00\x00\x00\x00WEBPVP8 junk"]
    for index, data in enumerate(samples):
        (tmp_path / f"{index}.bin").write_bytes(data)
    code = (
        "import sys, pathlib\n"
        "from openlive.engines.vision import BadImage, ImageLimits, decode, probe, warm_up\n"
        "warm_up()\n"
        "before = set(sys.modules)\n"
        f"for path in sorted(pathlib.Path({str(tmp_path)!r}).glob('*.bin')):\n"
        "    try:\n"
        "        probe(path.read_bytes(), ImageLimits())\n"
        "        decode(path.read_bytes(), ImageLimits(), 32)\n"
        "    except BadImage:\n"
        "        pass\n"
        "print(sorted(set(sys.modules) - before))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.strip() == "[]", result.stdout


def test_decode_turns_frames_upright_flattens_alpha_and_shrinks() -> None:
    wide = Image.new("RGB", (400, 200), "red")
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    buffer = io.BytesIO()
    wide.save(buffer, format="JPEG", exif=exif)
    assert decode(buffer.getvalue(), LIMITS, 768).size == (200, 400)

    transparent = Image.new("RGBA", (50, 50), (0, 0, 0, 0))
    assert decode(png(transparent), LIMITS, 768).getpixel((10, 10)) == (255, 255, 255)

    deep = Image.fromarray(np.full((32, 32), 60000, dtype=np.uint16))
    assert decode(png(deep), LIMITS, 768).mode == "RGB"

    big = frames.jpeg(frames.plain((1, 2, 3), 3000))
    assert max(decode(big, LIMITS, 384).size) == 384


def test_scene_distance_ignores_noise_and_sees_a_new_scene() -> None:
    rng = np.random.default_rng(0)
    sign = np.asarray(frames.sign(), dtype=np.int16)
    noisy = Image.fromarray((sign + rng.integers(-12, 13, sign.shape)).clip(0, 255).astype("uint8"))
    a = probe(frames.jpeg(frames.sign()), LIMITS).thumbnail
    b = probe(frames.jpeg(noisy, quality=60), LIMITS).thumbnail
    c = probe(frames.jpeg(frames.receipt()), LIMITS).thumbnail
    threshold = Settings().vision_scene_change
    assert scene_distance(a, b) < threshold / 3
    assert scene_distance(a, c) > threshold * 2


# -- the embedded engines on known pictures -----------------------------------------------------


@pytest.fixture(scope="module")
def engine() -> EmbeddedVision:
    vision = EmbeddedVision(frames.vision_assets())
    vision.load()
    return vision


def describe(engine: EmbeddedVision, image: Image.Image, side: int = 768) -> SceneDescription:
    return engine.describe(decode(frames.jpeg(image), LIMITS, side))


def test_a_sign_gives_its_text_and_a_stop_sign(engine: EmbeddedVision) -> None:
    scene = describe(engine, frames.sign())
    assert scene.text_lines == ["STOP"]
    assert [d.label for d in scene.objects] == ["stop sign"]
    assert describe(engine, frames.sign("EXIT")).text_lines == ["EXIT"]


@pytest.mark.parametrize("side", [384, 512, 768])
def test_a_receipt_is_read_exactly_at_every_resolution(engine: EmbeddedVision, side: int) -> None:
    assert describe(engine, frames.receipt(), side).text_lines == list(frames.RECEIPT_LINES)


def test_a_photo_gives_people_objects_and_expressions(engine: EmbeddedVision) -> None:
    dinner = describe(engine, frames.dinner())
    labels = {label for label, _ in dinner.object_counts()}
    assert {"person", "cup"} <= labels
    face = describe(engine, frames.smiling_face())
    assert [(f.expression, f.width > 0.3) for f in face.faces] == [("happy", True)]


def test_a_blank_dark_frame_is_only_dark(engine: EmbeddedVision) -> None:
    scene = describe(engine, frames.plain((5, 5, 5)))
    assert scene.as_text() == "the image is very dark"


def test_engine_parts_can_be_switched_off() -> None:
    settings = Settings(vision_objects=False, vision_faces=False)
    vision = create_vision_engine(settings, frames.vision_assets())
    assert vision.description == "text (PP-OCR) on onnxruntime"
    vision.load()
    scene = vision.describe(decode(frames.jpeg(frames.sign()), LIMITS, 768))
    assert (scene.objects, scene.text_lines) == ([], ["STOP"])


# -- a session's camera -------------------------------------------------------------------------


class CountingEngine:
    """Describes every frame by its size and counts the calls."""

    def __init__(self, background: bool = True, delay_s: float = 0.0) -> None:
        self.analyses_in_background = background
        self.delay_s = delay_s
        self.sizes: list[tuple[int, int]] = []

    def describe(self, image: Image.Image) -> SceneDescription:
        time.sleep(self.delay_s)
        self.sizes.append(image.size)
        return SceneDescription(text_lines=[f"frame {len(self.sizes)} {image.size[0]}px"])


def camera_for(engine: CountingEngine, **options: Any) -> Camera:
    services = VisionServices(
        engine=engine,
        executor=ThreadPoolExecutor(1),
        probe_executor=ThreadPoolExecutor(1),
        limits=LIMITS,
        scene_change=Settings().vision_scene_change,
        background=True,
    )
    return Camera(services, **options)


async def test_a_still_stream_is_analysed_once_in_the_background() -> None:
    engine = CountingEngine()
    camera = camera_for(engine)
    still = frames.jpeg(frames.sign())
    for _ in range(5):
        await camera.add_frame(still)
    await asyncio.sleep(0.3)
    assert len(engine.sizes) == 1  # settled after two frames, analysed once, before any turn
    assert await camera.note_for_turn() == '[camera] text visible: "frame 1 768px"'
    assert len(engine.sizes) == 1
    assert await camera.note_for_turn() is None  # nothing new since
    await camera.add_frame(still)
    assert await camera.note_for_turn() == '[camera] text visible: "frame 1 768px"'
    assert len(engine.sizes) == 1
    await camera.aclose()


async def test_the_newest_scene_is_analysed_when_the_turn_ends() -> None:
    engine = CountingEngine(background=False)
    camera = camera_for(engine, resolution=analysis_resolution("MEDIA_RESOLUTION_LOW"))
    for image in (frames.sign(), frames.receipt(), frames.plain((0, 0, 0))):
        await camera.add_frame(frames.jpeg(image))
    assert engine.sizes == []
    assert await camera.note_for_turn() == '[camera] text visible: "frame 1 384px"'
    assert engine.sizes == [(384, 384)]
    assert await camera.note_for_turn() is None  # the turn's older scenes are spent too


async def test_whole_turn_coverage_notes_each_distinct_scene_newest_last() -> None:
    engine = CountingEngine(background=False)
    camera = camera_for(engine, whole_turn=True)
    sign, receipt = frames.jpeg(frames.sign()), frames.jpeg(frames.receipt())
    for data in (sign, sign, receipt, receipt, receipt):
        await camera.add_frame(data)
    note = await camera.note_for_turn()
    assert note is not None and note.splitlines()[0] == (
        "[camera] 2 scenes during this turn, oldest first:"
    )
    assert len(engine.sizes) == 2


async def test_an_interrupted_turn_keeps_its_frames_for_the_next() -> None:
    engine = CountingEngine(background=False, delay_s=0.2)
    camera = camera_for(engine)
    await camera.add_frame(frames.jpeg(frames.sign()))
    waiting = asyncio.create_task(camera.note_for_turn())
    await asyncio.sleep(0.05)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert await camera.note_for_turn() == '[camera] text visible: "frame 1 768px"'
    assert len(engine.sizes) == 1  # the analysis went on and was reused


async def test_a_bad_frame_is_a_1007_protocol_error() -> None:
    camera = camera_for(CountingEngine())
    with pytest.raises(ProtocolError) as raised:
        await camera.add_frame(b"\x00garbage")
    assert raised.value.code == 1007
    assert raised.value.reason.startswith("Invalid image data")


def test_media_resolution_maps_to_analysis_size() -> None:
    assert [
        analysis_resolution(value)
        for value in ("MEDIA_RESOLUTION_LOW", "MEDIA_RESOLUTION_MEDIUM", "MEDIA_RESOLUTION_HIGH")
    ] == [384, 512, 768]
    assert analysis_resolution(None) == analysis_resolution("MEDIA_RESOLUTION_UNSPECIFIED") == 768


# -- an operator's vision-language model, up to the runtime ------------------------------------


class FakeVLMServer:
    """Stands in for xllamacpp.Server: records its params and requests, streams a caption."""

    def __init__(self, params: Any) -> None:
        self.params = params
        self.requests: list[dict[str, Any]] = []

    def handle_chat_completions(self, request: dict[str, Any], callback: Any) -> dict:
        self.requests.append(request)
        for piece in ("A red ", "stop sign."):
            callback({"choices": [{"delta": {"content": piece}}]})
        return {}


def test_a_vision_language_model_gets_the_mmproj_and_an_image_url_part(tmp_path: Path) -> None:
    model, mmproj = tmp_path / "smolvlm.gguf", tmp_path / "mmproj.gguf"
    model.write_bytes(b"GGUF")
    mmproj.write_bytes(b"GGUF")
    settings = Settings(vision_model=str(model), vision_mmproj=str(mmproj))
    vlm = create_vision_engine(settings)
    assert isinstance(vlm, VLMVision) and not vlm.analyses_in_background
    servers: list[FakeVLMServer] = []
    vlm._server_factory = lambda params: servers.append(FakeVLMServer(params)) or servers[-1]
    vlm.load()
    [server] = servers
    assert server.params.mmproj.path == str(mmproj)
    assert server.params.model.path == str(model)

    scene = vlm.describe(frames.sign(size=1000))
    assert scene.as_text() == "A red stop sign."
    [request] = server.requests
    [text, image] = request["messages"][0]["content"]
    assert text["type"] == "text" and "quote it exactly" in text["text"]
    assert image["type"] == "image_url"
    prefix, _, encoded = image["image_url"]["url"].partition(",")
    assert prefix == "data:image/jpeg;base64"
    assert Image.open(io.BytesIO(base64.b64decode(encoded))).size == (512, 512)


def test_a_vision_language_model_needs_its_files(tmp_path: Path) -> None:
    with pytest.raises(VisionError, match="MMPROJ"):
        create_vision_engine(Settings(vision_model=str(tmp_path / "m.gguf")))
    with pytest.raises(VisionError, match="no GGUF file"):
        create_vision_engine(
            Settings(vision_model=str(tmp_path / "m.gguf"), vision_mmproj=str(tmp_path / "p"))
        )


def test_a_failing_vision_language_model_is_a_vision_error(tmp_path: Path) -> None:
    class Failing(FakeVLMServer):
        def handle_chat_completions(self, request: dict[str, Any], callback: Any) -> dict:
            return {"error": {"message": "image too big"}}

    vlm = VLMVision(tmp_path / "m", tmp_path / "p", server_factory=Failing)
    (tmp_path / "m").write_bytes(b"x")
    (tmp_path / "p").write_bytes(b"x")
    vlm.load()
    with pytest.raises(VisionError, match="image too big"):
        vlm.describe(frames.sign())


# -- install ------------------------------------------------------------------------------------


def test_missing_vision_models_name_the_install_command(tmp_path: Path) -> None:
    with pytest.raises(AssetsMissing, match="openlive models install"):
        vision_assets(tmp_path)


def test_a_second_vision_install_is_instant_and_the_notice_names_the_licences() -> None:
    from openlive.assets import ensure_vision_assets

    assets = frames.vision_assets()
    before = assets.objects_model.stat().st_mtime_ns
    started = time.perf_counter()
    assert ensure_vision_assets(assets.models_dir, progress=False) == assets
    assert time.perf_counter() - started < 1.0
    assert assets.objects_model.stat().st_mtime_ns == before
    notice = (assets.models_dir / "NOTICE").read_text()
    assert "publishes NO licence file" in notice
    assert "Copyright (c) Vladimir Mandic" in notice
    assert notice.count("MIT License") == 1


def test_the_converter_refuses_operators_it_does_not_know(tmp_path: Path) -> None:
    model = {
        "modelTopology": {
            "node": [
                {"name": "x", "op": "Placeholder", "attr": {"shape": {"shape": {"dim": []}}}},
                {"name": "y", "op": "Erf", "input": ["x"]},
            ]
        },
        "weightsManifest": [],
    }
    (tmp_path / "model.json").write_text(json.dumps(model))
    with pytest.raises(UnsupportedGraph, match="Erf"):
        convert(tmp_path / "model.json")
