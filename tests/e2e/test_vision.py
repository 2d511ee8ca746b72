"""Camera frames through google-genai: what the camera saw reaches the LLM as a ``[camera]`` note
in the user's turn, bad frames close the session with 1007, usage counts the IMAGE share.

The LLM is the packaged placeholder: the tests check what reached it, not what it answered."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from google.genai import errors, types

from .. import frames
from ..genai_helpers import MODEL, client_for, receive_turn, requests_containing, text_config
from ..servers import ServerProcess, start_server

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def vision_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    frames.vision_assets()  # installed (or a clear failure) before the server looks for them
    server = start_server(tmp_path_factory.mktemp("vision-server"), vision=True)
    yield server
    server.stop()


def video(data: bytes, mime_type: str = "image/jpeg") -> types.Blob:
    return types.Blob(data=data, mime_type=mime_type)


def asked(server: ServerProcess, question: str) -> dict:
    """The LLM request that answered ``question`` (later ones carry it in their history)."""
    [request] = [
        r for r in requests_containing(server, question) if question in r["messages"][-1]["content"]
    ]
    return request


def user_message(server: ServerProcess, question: str) -> str:
    """The rendered user message that carried ``question`` to the LLM (a note joins it)."""
    return asked(server, question)["messages"][-1]["content"]


async def test_a_sign_is_read_and_its_text_reaches_the_llm_in_quotes(
    vision_server: ServerProcess,
) -> None:
    sign = frames.jpeg(frames.sign())
    async with client_for(vision_server).aio.live.connect(
        model=MODEL, config=text_config()
    ) as session:
        for _ in range(3):  # a still camera at 1 FPS
            await session.send_realtime_input(video=video(sign))
        await session.send_realtime_input(text="Sign check: what does the sign say?")
        turn = await receive_turn(session)

    message = user_message(vision_server, "Sign check: what does the sign say?")
    note, question = message.split("\n")
    assert note.startswith("[camera] ")
    assert 'text visible: "STOP"' in note
    assert "stop sign" in note
    assert question == "Sign check: what does the sign say?"

    usage = turn.last.usage_metadata
    by_modality = {d.modality: d.token_count for d in usage.prompt_tokens_details}
    assert by_modality[types.MediaModality.IMAGE] > 0
    assert sum(by_modality.values()) == usage.prompt_token_count


async def test_legacy_media_chunks_frames_are_seen_too(vision_server: ServerProcess) -> None:
    async with client_for(vision_server).aio.live.connect(
        model=MODEL, config=text_config()
    ) as session:
        await session.send_realtime_input(media=video(frames.jpeg(frames.sign("EXIT"))))
        await session.send_realtime_input(text="Legacy: which word?")
        await receive_turn(session)

    assert 'text visible: "EXIT"' in user_message(vision_server, "Legacy: which word?")


async def test_a_receipt_is_read_line_by_line_with_prices(vision_server: ServerProcess) -> None:
    async with client_for(vision_server).aio.live.connect(
        model=MODEL, config=text_config()
    ) as session:
        await session.send_realtime_input(video=video(frames.jpeg(frames.receipt())))
        await session.send_client_content(
            turns=types.Content(role="user", parts=[types.Part(text="Receipt: read it out.")])
        )
        await receive_turn(session)

    note = user_message(vision_server, "Receipt: read it out.").split("\n")[0]
    assert note.startswith("[camera] text visible: ")
    quoted = [f'"{line}"' for line in frames.RECEIPT_LINES]
    assert all(line in note for line in quoted), note
    assert [note.index(line) for line in quoted] == sorted(note.index(q) for q in quoted)


async def test_a_photo_is_described_by_its_objects_and_faces(vision_server: ServerProcess) -> None:
    async with client_for(vision_server).aio.live.connect(
        model=MODEL, config=text_config()
    ) as session:
        await session.send_realtime_input(video=video(frames.jpeg(frames.dinner())))
        await session.send_realtime_input(text="Photo: what do you see?")
        await receive_turn(session)
        await session.send_realtime_input(video=video(frames.jpeg(frames.smiling_face())))
        await session.send_realtime_input(text="Face: how do I look?")
        await receive_turn(session)

    dinner = user_message(vision_server, "Photo: what do you see?").split("\n")[0]
    assert dinner.startswith("[camera] objects: ")
    assert "person" in dinner and "cup" in dinner
    face = user_message(vision_server, "Face: how do I look?").split("\n")[0]
    assert "faces: 1 (happy)" in face


async def test_history_stays_byte_stable_and_a_scene_is_noted_once(
    vision_server: ServerProcess,
) -> None:
    sign = frames.jpeg(frames.sign())
    async with client_for(vision_server).aio.live.connect(
        model=MODEL, config=text_config()
    ) as session:
        await session.send_realtime_input(video=video(sign))
        await session.send_realtime_input(text="Stable 1: the sign?")
        await receive_turn(session)
        await session.send_realtime_input(text="Stable 2: and now?")  # no frame since
        await receive_turn(session)
        await session.send_realtime_input(video=video(frames.jpeg(frames.receipt())))
        await session.send_realtime_input(text="Stable 3: the total?")
        await receive_turn(session)

    first = asked(vision_server, "Stable 1: the sign?")
    second = asked(vision_server, "Stable 2: and now?")
    third = asked(vision_server, "Stable 3: the total?")
    # Each prompt starts with the previous one, byte for byte: the LLM's prompt cache holds.
    assert second["messages"][: len(first["messages"])] == first["messages"]
    assert third["messages"][: len(second["messages"]) - 1] == second["messages"][:-1]
    assert second["messages"][-1]["content"] == "Stable 2: and now?"
    assert third["messages"][-1]["content"].startswith("[camera] text visible: ")
    assert third["messages"][-1]["content"].endswith("\nStable 3: the total?")


async def test_whole_turn_coverage_describes_every_scene_of_the_turn(
    vision_server: ServerProcess,
) -> None:
    coverage = types.RealtimeInputConfig(turn_coverage=types.TurnCoverage.TURN_INCLUDES_ALL_INPUT)
    config = text_config(realtime_input_config=coverage)
    async with client_for(vision_server).aio.live.connect(model=MODEL, config=config) as session:
        await session.send_realtime_input(video=video(frames.jpeg(frames.sign())))
        await session.send_realtime_input(video=video(frames.jpeg(frames.plain((0, 0, 0)))))
        await session.send_realtime_input(video=video(frames.jpeg(frames.receipt())))
        await session.send_realtime_input(text="Coverage: what happened?")
        await receive_turn(session)

    note = user_message(vision_server, "Coverage: what happened?")
    lines = note.split("\n")
    assert lines[0] == "[camera] 3 scenes during this turn, oldest first:"
    assert lines[1].startswith("1. ") and '"STOP"' in lines[1]
    assert lines[2] == "2. the image is very dark"
    assert lines[3].startswith("3. ") and '"TOTAL 10.55"' in lines[3]
    assert lines[4] == "Coverage: what happened?"


async def test_default_coverage_describes_the_newest_frame_only(
    vision_server: ServerProcess,
) -> None:
    async with client_for(vision_server).aio.live.connect(
        model=MODEL, config=text_config()
    ) as session:
        await session.send_realtime_input(video=video(frames.jpeg(frames.sign())))
        await session.send_realtime_input(video=video(frames.jpeg(frames.receipt())))
        await session.send_realtime_input(text="Newest: what is in view?")
        await receive_turn(session)

    note = user_message(vision_server, "Newest: what is in view?").split("\n")[0]
    assert '"TOTAL 10.55"' in note and "STOP" not in note


@pytest.mark.parametrize(
    ("data", "mime_type", "reason"),
    [
        (b"this is not a jpeg at all", "image/jpeg", "Invalid image data"),
        (frames.jpeg(frames.receipt())[:20_000], "image/jpeg", "Invalid image data"),
        (None, "image/png", "Image too large: 10000x5000 pixels (limit 40 MP)."),
    ],
    ids=["garbage", "truncated", "50-megapixels"],
)
async def test_a_bad_frame_closes_1007_with_a_clear_reason(
    vision_server: ServerProcess, data: bytes | None, mime_type: str, reason: str
) -> None:
    data = data if data is not None else frames.huge_png()
    with pytest.raises(errors.APIError) as raised:
        async with client_for(vision_server).aio.live.connect(
            model=MODEL, config=text_config()
        ) as session:
            await session.send_realtime_input(video=video(data, mime_type))
            await session.send_realtime_input(text="Bad frame: still there?")
            async for _ in session.receive():
                pass
    assert raised.value.code == 1007
    assert reason in raised.value.details
    assert len(raised.value.details.encode()) <= 123
    assert not requests_containing(vision_server, "Bad frame: still there?")


async def test_a_frame_over_the_byte_limit_closes_1007(server_factory) -> None:
    server = server_factory(vision=True, env={"OPENLIVE_VISION_MAX_IMAGE_BYTES": "20000"})
    big = frames.jpeg(frames.receipt(), quality=100)
    assert len(big) > 20_000
    with pytest.raises(errors.APIError) as raised:
        async with client_for(server).aio.live.connect(model=MODEL, config=text_config()) as s:
            await s.send_realtime_input(video=video(big))
            async for _ in s.receive():
                pass
    assert raised.value.code == 1007
    assert raised.value.details.startswith("Image too large: ")


async def test_a_picture_sent_with_send_client_content_is_seen(
    vision_server: ServerProcess,
) -> None:
    question = "Picture check: what is in this picture?"
    picture = types.Part(inline_data=video(frames.jpeg(frames.sign())))
    turns = types.Content(role="user", parts=[types.Part(text=question), picture])
    async with client_for(vision_server).aio.live.connect(
        model=MODEL, config=text_config()
    ) as session:
        await session.send_client_content(turns=turns)
        await receive_turn(session)

    note, said = user_message(vision_server, question).split("\n")
    assert note.startswith("[camera] ")
    assert 'text visible: "STOP"' in note
    assert said == question
