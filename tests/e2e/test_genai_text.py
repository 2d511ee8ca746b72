"""Text conversations through google-genai (Python, pinned) over TLS, public API only.

The packaged LLM is a placeholder: these tests check what is streamed and what reaches the engine,
never the wisdom of its answers.
"""

from __future__ import annotations

import asyncio

from google.genai import types

from ..genai_helpers import (
    MODEL,
    client_for,
    receive_turn,
    requests_containing,
    text_config,
    user_text,
)
from ..servers import ServerProcess


async def test_a_text_turn_streams_then_completes_with_usage(tls_server: ServerProcess) -> None:
    client = client_for(tls_server)
    async with client.aio.live.connect(model=MODEL, config=text_config()) as session:
        assert session.session_id
        await session.send_client_content(turns=user_text("Name three colours."))
        turn = await receive_turn(session)

    events = turn.events()
    assert events[-2:] == ["generationComplete", "turnComplete"]
    assert events.count("text") >= 2, "the reply must stream in several messages"
    usage = turn.last.usage_metadata
    assert usage is not None
    assert usage.prompt_token_count > 0
    assert usage.response_token_count > 0
    assert usage.total_token_count == usage.prompt_token_count + usage.response_token_count
    assert usage.response_tokens_details[0].modality == types.MediaModality.TEXT


async def test_second_turn_sends_the_first_turn_to_the_engine(tls_server: ServerProcess) -> None:
    client = client_for(tls_server)
    config = text_config(system_instruction="You are a terse assistant.")
    async with client.aio.live.connect(model=MODEL, config=config) as session:
        await session.send_client_content(turns=user_text("First question: kiwi?"))
        first = await receive_turn(session)
        await session.send_realtime_input(text="Second question: mango?")
        second = await receive_turn(session)

    assert first.text and second.text
    [request] = requests_containing(tls_server, "Second question: mango?")
    assert request["messages"] == [
        {"role": "system", "content": "You are a terse assistant."},
        {"role": "user", "content": "First question: kiwi?"},
        {"role": "assistant", "content": first.text},
        {"role": "user", "content": "Second question: mango?"},
    ]


async def test_generation_config_reaches_the_engine(tls_server: ServerProcess) -> None:
    client = client_for(tls_server)
    config = text_config(
        temperature=0.3,
        top_p=0.8,
        top_k=20,
        max_output_tokens=12,
        seed=7,
    )
    async with client.aio.live.connect(model=MODEL, config=config) as session:
        await session.send_client_content(turns=user_text("Parameters check: plum"))
        turn = await receive_turn(session)

    [request] = requests_containing(tls_server, "Parameters check: plum")
    assert (request["temperature"], request["top_p"], request["top_k"]) == (0.3, 0.8, 20)
    assert (request["max_tokens"], request["seed"]) == (12, 7)
    assert turn.last.usage_metadata.response_token_count <= 12


async def test_model_turns_prefill_history_and_bare_turn_complete(
    tls_server: ServerProcess,
) -> None:
    client = client_for(tls_server)
    async with client.aio.live.connect(model="models/any-name-at-all", config=text_config()) as s:
        await s.send_client_content(
            turns=[
                user_text("Prefill: what is the capital of France?"),
                types.Content(role="model", parts=[types.Part(text="Paris.")]),
                user_text("Prefill: and of Italy?"),
            ],
            turn_complete=False,
        )
        await s.send_client_content(turn_complete=True)
        turn = await receive_turn(s)

    assert turn.events()[-1] == "turnComplete"
    [request] = requests_containing(tls_server, "Prefill: and of Italy?")
    assert request["messages"][-3:] == [
        {"role": "user", "content": "Prefill: what is the capital of France?"},
        {"role": "assistant", "content": "Paris."},
        {"role": "user", "content": "Prefill: and of Italy?"},
    ]


async def test_new_client_content_interrupts_and_history_keeps_what_was_sent(
    tls_server: ServerProcess,
) -> None:
    client = client_for(tls_server)
    async with client.aio.live.connect(
        model=MODEL, config=text_config(max_output_tokens=400)
    ) as session:
        await session.send_client_content(turns=user_text("Interrupt me: tell a long story."))
        received: list[str] = []
        events: list[str] = []
        async for message in session.receive():
            content = message.server_content
            if content and content.model_turn:
                received.extend(p.text for p in content.model_turn.parts if p.text)
                if len(received) == 1:
                    await session.send_client_content(turns=user_text("Stop. New topic: tea."))
            if content and content.interrupted:
                events.append("interrupted")
            if content and content.generation_complete:
                events.append("generationComplete")
            if content and content.turn_complete:
                events.append("turnComplete")
        # The interrupted turn ends with interrupted then turnComplete, and no generationComplete.
        assert events == ["interrupted", "turnComplete"]
        next_turn = await receive_turn(session)
        assert next_turn.events()[-1] == "turnComplete"

    [request] = requests_containing(tls_server, "Stop. New topic: tea.")
    heard = "".join(received)
    assert request["messages"][-2:] == [
        {"role": "assistant", "content": heard},
        {"role": "user", "content": "Stop. New topic: tea."},
    ]


async def test_sessions_run_side_by_side(tls_server: ServerProcess) -> None:
    client = client_for(tls_server)

    async def one(tag: str) -> str:
        async with client.aio.live.connect(model=MODEL, config=text_config()) as session:
            await session.send_realtime_input(text=f"Parallel {tag}")
            return (await receive_turn(session)).events()[-1]

    assert await asyncio.gather(one("a"), one("b"), one("c")) == ["turnComplete"] * 3


async def test_seeded_history_is_not_answered_and_the_next_question_is_answered_with_it(
    tls_server: ServerProcess,
) -> None:
    client = client_for(tls_server)
    history = types.HistoryConfig(initial_history_in_client_content=True)
    config = text_config(history_config=history, system_instruction="Be terse.")
    seed = [
        user_text("Seeded: my cat is called Tibbles."),
        types.Content(role="model", parts=[types.Part(text="A fine name.")]),
    ]
    async with client.aio.live.connect(model=MODEL, config=config) as session:
        await session.send_client_content(turns=seed, turn_complete=True)
        await session.send_realtime_input(text="What is my cat called?")
        turn = await receive_turn(session)

    assert turn.events()[-2:] == ["generationComplete", "turnComplete"]
    # One model call, for the question: the seeded history itself was never answered.
    [request] = requests_containing(tls_server, "Tibbles")
    assert request["messages"] == [
        {"role": "system", "content": "Be terse."},
        {"role": "user", "content": "Seeded: my cat is called Tibbles."},
        {"role": "assistant", "content": "A fine name."},
        {"role": "user", "content": "What is my cat called?"},
    ]


async def test_client_content_function_parts_reach_history_and_unusable_parts_are_logged(
    tls_server: ServerProcess,
) -> None:
    client = client_for(tls_server)
    call = types.FunctionCall(id="replayed-1", name="get_time", args={"city": "Oslo"})
    result = types.FunctionResponse(id="replayed-1", name="get_time", response={"time": "09:15"})
    picture = types.Blob(data=b"\x89PNG not really", mime_type="image/png")
    turns = [
        user_text("Parts check: what time is it in Oslo?"),
        types.Content(role="model", parts=[types.Part(function_call=call)]),
        types.Content(role="user", parts=[types.Part(function_response=result)]),
        types.Content(
            role="user", parts=[types.Part(text="Parts check 2?"), types.Part(inline_data=picture)]
        ),
    ]
    async with client.aio.live.connect(model=MODEL, config=text_config()) as session:
        await session.send_client_content(turns=turns)
        turn = await receive_turn(session)

    assert turn.events()[-1] == "turnComplete"
    [request] = requests_containing(tls_server, "Parts check 2?")
    messages = request["messages"][1:]
    assert messages[0] == {"role": "user", "content": "Parts check: what time is it in Oslo?"}
    # The call and its result, in the form the server writes its own (the text form here).
    assert "get_time" in messages[1]["content"] and "Oslo" in messages[1]["content"]
    assert "09:15" in str(messages[2]["content"])
    assert messages[-1]["content"].endswith("Parts check 2?")
    assert "clientContent image parts (no vision models loaded) cannot be used" in tls_server.log()
