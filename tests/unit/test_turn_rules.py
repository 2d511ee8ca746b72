"""The turn rules as tables (session/state.py): every (state, event) pair and every input row is
walked, so a hole in a table fails here rather than in a user's session."""

from __future__ import annotations

import itertools

import pytest

from openlive.session.state import (
    INPUT_RULES,
    REPLY_EVENT,
    TRANSITIONS,
    TURN_ENDS,
    TURN_STARTS,
    Action,
    Handling,
    Input,
    InvalidTransition,
    Record,
    Turn,
    TurnEvent,
    TurnState,
    decide,
    next_state,
)

BUSY = [state for state in TurnState if state is not TurnState.IDLE]


@pytest.mark.parametrize(("state", "event"), list(itertools.product(TurnState, TurnEvent)))
def test_every_pair_either_moves_as_the_table_says_or_is_refused(
    state: TurnState, event: TurnEvent
):
    if (state, event) in TRANSITIONS:
        assert next_state(state, event) is TRANSITIONS[(state, event)]
    else:
        with pytest.raises(InvalidTransition):
            next_state(state, event)
    ends_a_turn = event in TURN_ENDS and state is not TurnState.IDLE
    if ends_a_turn:  # however a turn ends, no state may keep it from ending
        assert TRANSITIONS.get((state, event)) is TurnState.IDLE
    if state is TurnState.IDLE:  # only a new turn leaves IDLE
        assert ((state, event) in TRANSITIONS) is (event in TURN_STARTS)


def test_every_state_is_reached_from_idle_and_leads_back_to_it():
    def reachable(start: TurnState) -> set[TurnState]:
        seen, frontier = {start}, [start]
        while frontier:
            state = frontier.pop()
            for (source, _), target in TRANSITIONS.items():
                if source is state and target not in seen:
                    seen.add(target)
                    frontier.append(target)
        return seen

    assert reachable(TurnState.IDLE) == set(TurnState)
    for state in TurnState:
        assert TurnState.IDLE in reachable(state)


def test_a_turn_object_changes_only_through_legal_events():
    turn = Turn()
    assert not turn.busy
    turn.handle(TurnEvent.USER_TURN_COMPLETE)
    turn.handle(TurnEvent.TOOL_CALLED)
    assert turn.busy and turn.state is TurnState.WAITING_FOR_TOOL
    with pytest.raises(InvalidTransition):
        turn.handle(TurnEvent.PLAYBACK_DONE)
    assert turn.state is TurnState.WAITING_FOR_TOOL  # a refused event changes nothing
    turn.handle(TurnEvent.FAILED)
    assert turn.state is TurnState.IDLE


ROWS = list(itertools.product(Input, [False, True], Handling))


@pytest.mark.parametrize(("kind", "busy", "handling"), ROWS)
def test_every_input_row_has_a_verdict_that_keeps_the_rules(
    kind: Input, busy: bool, handling: Handling
):
    action = decide(kind, busy=busy, handling=handling)
    assert kind in REPLY_EVENT
    assert REPLY_EVENT[kind] in TURN_STARTS
    if not busy:
        # Nothing to interrupt or to wait for: whatever the mode, act now.
        assert not action.interrupt
        assert action.record is not Record.AFTER_REPLY
        assert action == decide(kind, busy=False, handling=Handling.NO_INTERRUPTION)
    if (
        busy
        and handling is Handling.NO_INTERRUPTION
        and kind
        in (
            Input.USER_TURN,
            Input.SPEECH_STARTED,
        )
    ):
        assert not action.interrupt  # the user's activity never cuts the model off
    if busy and action.record is Record.NOW and action.reply:
        assert action.interrupt  # a reply starts only once the running one is gone
    if busy and kind in (Input.CONTENT, Input.CONTENT_TURN_COMPLETE):
        assert action.interrupt  # new content interrupts, in either mode
    if kind is Input.SEEDED_HISTORY:  # the conversation so far: kept, never answered
        assert action == Action(interrupt=False, record=Record.NOW, reply=False)


def test_the_input_table_has_one_row_per_kind_of_input():
    assert set(INPUT_RULES) == set(Input)
