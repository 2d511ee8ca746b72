"""Keys, ephemeral tokens, limits and metrics, through google-genai as users call them."""

from __future__ import annotations

import asyncio
import datetime

import httpx
import pytest
from google.genai import errors, types

from ..genai_helpers import (
    MODEL,
    client_for,
    receive_turn,
    requests_containing,
    text_config,
    user_text,
)

KEY = "server-key-1"


def in_seconds(seconds: float) -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=seconds)


def token_client(server, name: str):
    return client_for(server, api_key=name, api_version="v1alpha")


async def one_turn(client, text: str, config=None) -> None:
    async with client.aio.live.connect(model=MODEL, config=config or text_config()) as session:
        await session.send_client_content(turns=user_text(text))
        assert (await receive_turn(session)).events()[-1] == "turnComplete"


async def test_ephemeral_token_is_created_used_and_used_up(server_factory) -> None:
    server = server_factory("--api-key", KEY)
    owner = client_for(server, api_key=KEY, api_version="v1alpha")
    token = await owner.aio.auth_tokens.create(config=types.CreateAuthTokenConfig(uses=1))
    assert token.name.startswith("auth_tokens/")

    await one_turn(token_client(server, token.name), "Hello with a token.")
    with pytest.raises(errors.APIError) as raised:
        await one_turn(token_client(server, token.name), "Second use.")
    assert raised.value.code == 1007
    assert "no uses left" in str(raised.value)


async def test_token_creation_needs_a_valid_key(server_factory) -> None:
    server = server_factory("--api-key", KEY)
    stranger = client_for(server, api_key="wrong", api_version="v1alpha")
    with pytest.raises(errors.ClientError) as raised:
        await stranger.aio.auth_tokens.create(config=types.CreateAuthTokenConfig(uses=1))
    assert raised.value.code == 400
    with pytest.raises(errors.APIError) as closed:
        await one_turn(token_client(server, "auth_tokens/made-up"), "Forged.")
    assert closed.value.code == 1007


async def test_a_token_past_its_new_session_time_is_refused(server_factory) -> None:
    server = server_factory("--api-key", KEY)
    owner = client_for(server, api_key=KEY, api_version="v1alpha")
    token = await owner.aio.auth_tokens.create(
        config=types.CreateAuthTokenConfig(
            uses=0, expire_time=in_seconds(600), new_session_expire_time=in_seconds(1)
        )
    )
    await asyncio.sleep(2)
    with pytest.raises(errors.APIError) as raised:
        await one_turn(token_client(server, token.name), "Too late.")
    assert raised.value.code == 1007
    assert "can no longer start new sessions" in str(raised.value)


async def test_locked_fields_are_enforced(server_factory) -> None:
    server = server_factory("--api-key", KEY)
    owner = client_for(server, api_key=KEY, api_version="v1alpha")
    constraints = types.LiveConnectConstraints(
        model=MODEL,
        config=types.LiveConnectConfig(
            response_modalities=[types.Modality.TEXT],
            system_instruction="Locked instruction.",
            temperature=0.2,
            max_output_tokens=20,
        ),
    )
    token = await owner.aio.auth_tokens.create(
        config=types.CreateAuthTokenConfig(uses=0, live_connect_constraints=constraints)
    )
    client = token_client(server, token.name)
    # Fields left out come from the token.
    await one_turn(client, "Locked turn.", types.LiveConnectConfig())
    [request] = requests_containing(server, "Locked turn.")
    assert request["messages"][0] == {"role": "system", "content": "Locked instruction."}
    assert request["temperature"] == 0.2
    # Changing a locked field is refused.
    with pytest.raises(errors.APIError) as raised:
        await one_turn(client, "Hotter.", types.LiveConnectConfig(temperature=1.5))
    assert raised.value.code == 1007
    assert "locked by the ephemeral token" in str(raised.value)


async def test_concurrent_session_limit_is_hit_and_recovered(server_factory) -> None:
    server = server_factory(env={"OPENLIVE_MAX_SESSIONS_PER_KEY": "1"})
    client = client_for(server, api_key="limited")
    async with client.aio.live.connect(model=MODEL, config=text_config()):
        with pytest.raises(errors.APIError) as raised:
            await one_turn(client, "A second session at once.")
        assert raised.value.code == 1011
        assert "Resource has been exhausted" in str(raised.value)
        await one_turn(client_for(server, api_key="another-key"), "Other keys are fine.")
    await asyncio.sleep(0.5)
    await one_turn(client, "Recovered after the first closed.")


async def test_new_sessions_per_minute_limit(server_factory) -> None:
    server = server_factory(env={"OPENLIVE_MAX_NEW_SESSIONS_PER_MINUTE": "2"})
    client = client_for(server, api_key="busy")
    await one_turn(client, "one")
    await one_turn(client, "two")
    with pytest.raises(errors.APIError) as raised:
        await one_turn(client, "three")
    assert raised.value.code == 1011


async def test_metrics_count_sessions_turns_closes_and_stages(server_factory) -> None:
    server = server_factory("--api-key", KEY)
    await one_turn(client_for(server, api_key=KEY), "Counted.")
    with pytest.raises(errors.APIError):
        await one_turn(client_for(server, api_key="bad"), "Refused.")
    text = httpx.get(f"{server.http_url}/metrics", verify=False).text
    assert "openlive_sessions_open 0.0" in text
    assert 'openlive_sessions_total{kind="new"} 1.0' in text
    assert 'openlive_turns_total{modality="TEXT",outcome="playback_done"} 1.0' in text
    assert 'openlive_closes_total{code="1007"} 1.0' in text
    assert 'openlive_stage_seconds_count{stage="llm_first_token"} 1.0' in text
