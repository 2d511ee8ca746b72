"""The turn state machine.

Rules:
- Everything that decides whether the model may speak, must stop, or must wait lives here.
- This file does not know the wire format or the engines; it only names states and events.
- The transition table is data; a reader can check it against PROTOCOL.md §6.
"""

from __future__ import annotations

from enum import Enum


class TurnState(Enum):
    IDLE = "idle"  # nobody is generating; waiting for the user
    GENERATING = "generating"  # the model's reply is streaming out


class TurnEvent(Enum):
    USER_TURN_COMPLETE = "user_turn_complete"  # clientContent turnComplete, realtime text
    GENERATION_DONE = "generation_done"  # turnComplete sent after generationComplete
    INTERRUPTED = "interrupted"  # new input cut the reply; interrupted + turnComplete sent
    FAILED = "failed"  # the engine failed; turnComplete sent, the session closes with 1011


TRANSITIONS: dict[tuple[TurnState, TurnEvent], TurnState] = {
    (TurnState.IDLE, TurnEvent.USER_TURN_COMPLETE): TurnState.GENERATING,
    (TurnState.GENERATING, TurnEvent.GENERATION_DONE): TurnState.IDLE,
    (TurnState.GENERATING, TurnEvent.INTERRUPTED): TurnState.IDLE,
    (TurnState.GENERATING, TurnEvent.FAILED): TurnState.IDLE,
}


class InvalidTransition(Exception):
    pass


def next_state(state: TurnState, event: TurnEvent) -> TurnState:
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise InvalidTransition(f"{event.value} is not allowed while {state.value}") from None
