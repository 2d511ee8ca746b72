"""The reply state machine.

Rules:
- Everything that decides whether the model may speak, must stop, or must wait lives here.
- This file does not know the wire format or the engines; it only names states and events.
- The transition table is data; a reader can check it against PROTOCOL.md §6.
- Whether the *user* is speaking is the listener's business (session/listener.py); this table is
  about the model's reply, because that is what interruption and ``turnComplete`` are about.
- A blocking function call pauses the reply, it does not end it: WAITING_FOR_TOOL sits inside
  the turn, so no ``turnComplete`` comes between the ``toolCall`` and the answer (PROTOCOL.md
  §6.5). A barge-in there interrupts like anywhere else (and cancels the call). A non-blocking
  call does not wait: its turn ends normally, and its result starts a reply of its own later.
"""

from __future__ import annotations

from enum import Enum


class TurnState(Enum):
    IDLE = "idle"  # no reply in progress; waiting for the user
    GENERATING = "generating"  # the reply is being produced and streamed (text or audio)
    PLAYING_OUT = "playing_out"  # all audio sent (generationComplete), the client still plays it
    WAITING_FOR_TOOL = "waiting_for_tool"  # toolCall sent; the reply resumes on toolResponse


class TurnEvent(Enum):
    USER_TURN_COMPLETE = "user_turn_complete"  # clientContent turnComplete, text, end of speech
    TOOL_RESULT_READY = "tool_result_ready"  # a non-blocking call's result asks for a reply
    TOOL_CALLED = "tool_called"  # blocking toolCall sent; the reply waits for its response
    TOOL_RESPONDED = "tool_responded"  # every blocking call of the step has its response
    GENERATION_DONE = "generation_done"  # generationComplete sent; audio may still be playing
    PLAYBACK_DONE = "playback_done"  # the client has played everything: turnComplete sent
    INTERRUPTED = "interrupted"  # barge-in or new content: interrupted + turnComplete sent
    FAILED = "failed"  # the engine failed: turnComplete sent, the session closes with 1011


_S, _E = TurnState, TurnEvent
TRANSITIONS: dict[tuple[TurnState, TurnEvent], TurnState] = {
    (_S.IDLE, _E.USER_TURN_COMPLETE): _S.GENERATING,
    (_S.IDLE, _E.TOOL_RESULT_READY): _S.GENERATING,
    (_S.GENERATING, _E.TOOL_CALLED): _S.WAITING_FOR_TOOL,
    (_S.WAITING_FOR_TOOL, _E.TOOL_RESPONDED): _S.GENERATING,
    (_S.WAITING_FOR_TOOL, _E.INTERRUPTED): _S.IDLE,
    # A text reply is over when generated; an audio reply when played (turnComplete waits for it).
    (_S.GENERATING, _E.GENERATION_DONE): _S.PLAYING_OUT,
    (_S.PLAYING_OUT, _E.PLAYBACK_DONE): _S.IDLE,
    (_S.GENERATING, _E.INTERRUPTED): _S.IDLE,
    (_S.PLAYING_OUT, _E.INTERRUPTED): _S.IDLE,
    (_S.GENERATING, _E.FAILED): _S.IDLE,
}


class InvalidTransition(Exception):
    pass


def next_state(state: TurnState, event: TurnEvent) -> TurnState:
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise InvalidTransition(f"{event.value} is not allowed while {state.value}") from None
