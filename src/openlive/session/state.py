"""The turn rules: the reply's state machine, and what each kind of input does to it.

Rules:
- Every decision about whether the model may speak, must stop, or must wait is made here: the
  transition table says which events a state accepts, the input table says what an input does.
  session/live.py asks and then acts; it holds no turn rule of its own.
- Validate, then act: the state changes first, and only a legal transition lets the side effect
  (a reply task, ``interrupted``, ``turnComplete``) run. An illegal one raises, loudly.
- This file does not know the wire format or the engines; it only names states, events, inputs
  and actions. Both tables are data; docs/design.md draws them against docs/protocol.md §6.
- Whether the *user* is speaking is the listener's business (session/listener.py); this table is
  about the model's reply, because that is what interruption and ``turnComplete`` are about.
- A blocking function call pauses the reply, it does not end it: WAITING_FOR_TOOL sits inside
  the turn, so no ``turnComplete`` comes between the ``toolCall`` and the answer (docs/protocol.md
  §6.5). A call left unanswered past ``tool_response_timeout_s`` resumes the reply too, with an
  error result. A non-blocking call does not wait: its turn ends normally, and its result is an
  input of its own later, handled by its ``scheduling``.
- A turn can end in every state that is not IDLE, however it ends: interrupted, failed, or cut
  by the watchdog (session/watchdog.py). A missing pair would leave a session stuck mid-turn.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class TurnState(Enum):
    IDLE = "idle"  # no reply in progress; waiting for the user
    GENERATING = "generating"  # the reply is being produced and streamed (text or audio)
    WAITING_FOR_TOOL = "waiting_for_tool"  # toolCall sent; the reply resumes on toolResponse
    PLAYING_OUT = "playing_out"  # all audio sent (generationComplete), the client still plays it


class TurnEvent(Enum):
    USER_TURN_COMPLETE = "user_turn_complete"  # clientContent turnComplete, text, end of speech
    TOOL_RESULT_READY = "tool_result_ready"  # a tool result asks for a reply of its own
    TOOL_CALLED = "tool_called"  # blocking toolCall sent; the reply waits for its response
    TOOL_RESPONDED = "tool_responded"  # every blocking call of the step has its response
    TOOL_TIMED_OUT = "tool_timed_out"  # the client left a call unanswered: error results, go on
    GENERATION_DONE = "generation_done"  # generationComplete sent; audio may still be playing
    PLAYBACK_DONE = "playback_done"  # the client has played everything: turnComplete sent
    INTERRUPTED = "interrupted"  # barge-in or new content: interrupted + turnComplete sent
    FAILED = "failed"  # an engine raised: turnComplete sent, the session closes with 1011
    TIMED_OUT = "timed_out"  # the watchdog saw no progress: turnComplete sent, then 1011


_S, _E = TurnState, TurnEvent
TURN_STARTS = (_E.USER_TURN_COMPLETE, _E.TOOL_RESULT_READY)
TURN_ENDS = (_E.INTERRUPTED, _E.FAILED, _E.TIMED_OUT)
"""Events that end a turn whatever it is doing; every busy state accepts each of them."""

TRANSITIONS: dict[tuple[TurnState, TurnEvent], TurnState] = {
    (_S.IDLE, _E.USER_TURN_COMPLETE): _S.GENERATING,
    (_S.IDLE, _E.TOOL_RESULT_READY): _S.GENERATING,
    (_S.GENERATING, _E.TOOL_CALLED): _S.WAITING_FOR_TOOL,
    (_S.WAITING_FOR_TOOL, _E.TOOL_RESPONDED): _S.GENERATING,
    # An unanswered call does not end the turn: the model answers with its error result.
    (_S.WAITING_FOR_TOOL, _E.TOOL_TIMED_OUT): _S.GENERATING,
    # A text reply is over when generated; an audio reply when played (turnComplete waits for it).
    (_S.GENERATING, _E.GENERATION_DONE): _S.PLAYING_OUT,
    (_S.PLAYING_OUT, _E.PLAYBACK_DONE): _S.IDLE,
    **{(state, end): _S.IDLE for state in _S if state is not _S.IDLE for end in TURN_ENDS},
}


class InvalidTransition(Exception):
    pass


def next_state(state: TurnState, event: TurnEvent) -> TurnState:
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise InvalidTransition(f"{event.value} is not allowed while {state.value}") from None


# -- inputs -----------------------------------------------------------------------------------


class Input(Enum):
    """What arrived, as far as the turn is concerned."""

    USER_TURN = "user_turn"  # realtimeInput.text, or a spoken turn recognised
    CONTENT = "content"  # clientContent turns without turnComplete: history, no answer yet
    CONTENT_TURN_COMPLETE = "content_turn_complete"  # clientContent with turnComplete
    # clientContent while the client seeds history (historyConfig.initialHistoryInClientContent),
    # up to and including the one with turnComplete: history only; the next input is answered.
    SEEDED_HISTORY = "seeded_history"
    SPEECH_STARTED = "speech_started"  # the VAD (or activityStart) says the user speaks
    # Barge-in in two steps, so it is instant and a false alarm costs nothing: the first tenth
    # of a second of sound over our reply pauses it (``interrupted``, the client flushes); then
    # either the speech is confirmed (SPEECH_STARTED cuts the reply) or it was a cough, a
    # "mm-hm", our own echo, and the reply resumes where playback stopped.
    SPEECH_SUSPECTED = "speech_suspected"
    SPEECH_CLEARED = "speech_cleared"
    RESULT_INTERRUPT = "result_interrupt"  # a NON_BLOCKING result, scheduling INTERRUPT
    RESULT_WHEN_IDLE = "result_when_idle"  # ... WHEN_IDLE (the default)
    RESULT_SILENT = "result_silent"  # ... SILENT
    OWED_RESULT = "owed_result"  # a response owed from before a resume; more are owed
    LAST_OWED_RESULT = "last_owed_result"  # the last response owed from before a resume


class Record(Enum):
    """When the input's message goes into history."""

    NOTHING = "nothing"  # it carries nothing for history (speech start: the words come later)
    NOW = "now"
    AFTER_REPLY = "after_reply"  # held: history gets it after the reply, in arrival order


class Playback(Enum):
    """What an input does to the reply's audio on its way to the client."""

    KEEP = "keep"
    PAUSE = "pause"  # stop sending, tell the client to flush (interrupted); keep generating
    RESUME = "resume"  # send again what was flushed and not heard, then the rest


@dataclass(frozen=True)
class Action:
    interrupt: bool  # cut the current reply first (interrupted, toolCallCancellation)
    record: Record
    reply: bool  # then answer: at once, or, when held, see HELD_REPLIES_START_AFTER
    playback: Playback = Playback.KEEP


IGNORE = Action(interrupt=False, record=Record.NOTHING, reply=False)
RECORD = Action(interrupt=False, record=Record.NOW, reply=False)
REPLY = Action(interrupt=False, record=Record.NOW, reply=True)
HOLD = Action(interrupt=False, record=Record.AFTER_REPLY, reply=False)
HOLD_THEN_REPLY = Action(interrupt=False, record=Record.AFTER_REPLY, reply=True)
INTERRUPT = Action(interrupt=True, record=Record.NOTHING, reply=False)
INTERRUPT_THEN_RECORD = Action(interrupt=True, record=Record.NOW, reply=False)
INTERRUPT_THEN_REPLY = Action(interrupt=True, record=Record.NOW, reply=True)
PAUSE = Action(interrupt=False, record=Record.NOTHING, reply=False, playback=Playback.PAUSE)
RESUME = Action(interrupt=False, record=Record.NOTHING, reply=False, playback=Playback.RESUME)


class Handling(Enum):
    """``realtimeInputConfig.activityHandling``: may the user's activity cut the model off?"""

    INTERRUPTS = "START_OF_ACTIVITY_INTERRUPTS"  # the default
    NO_INTERRUPTION = "NO_INTERRUPTION"


INPUT_RULES: dict[Input, tuple[Action, Action, Action]] = {
    # kind of input: (idle, busy and interruptible, busy under NO_INTERRUPTION)
    Input.USER_TURN: (REPLY, INTERRUPT_THEN_REPLY, HOLD_THEN_REPLY),
    # New content interrupts in either mode (docs/protocol.md §4.2, §6.3): it is not speech.
    Input.CONTENT: (RECORD, INTERRUPT_THEN_RECORD, INTERRUPT_THEN_RECORD),
    Input.CONTENT_TURN_COMPLETE: (REPLY, INTERRUPT_THEN_REPLY, INTERRUPT_THEN_REPLY),
    # Seeded history is the conversation before this session: never a request for an answer.
    Input.SEEDED_HISTORY: (RECORD, RECORD, RECORD),
    # Barge-in: interrupt at once, before any transcript; the spoken turn follows as USER_TURN.
    Input.SPEECH_STARTED: (IGNORE, INTERRUPT, IGNORE),
    Input.SPEECH_SUSPECTED: (IGNORE, PAUSE, IGNORE),
    Input.SPEECH_CLEARED: (IGNORE, RESUME, IGNORE),
    # NON_BLOCKING results by ``scheduling`` (docs/protocol.md §6.5): they never land in the
    # middle of a reply in history. activityHandling is about the user, so it does not apply.
    Input.RESULT_INTERRUPT: (REPLY, INTERRUPT_THEN_REPLY, INTERRUPT_THEN_REPLY),
    Input.RESULT_WHEN_IDLE: (REPLY, HOLD_THEN_REPLY, HOLD_THEN_REPLY),
    Input.RESULT_SILENT: (RECORD, HOLD, HOLD),
    # A call answered after a resume follows its call in history; no reply waits for it, so the
    # last one starts one when the model is free.
    Input.OWED_RESULT: (RECORD, RECORD, RECORD),
    Input.LAST_OWED_RESULT: (REPLY, RECORD, RECORD),
}
"""(input) → (action when idle, when busy and interruptible, when busy under NO_INTERRUPTION).
Idle is idle in either mode. Busy is any state but IDLE, a tool wait and playback included."""

REPLY_EVENT: dict[Input, TurnEvent] = {
    Input.USER_TURN: _E.USER_TURN_COMPLETE,
    Input.CONTENT: _E.USER_TURN_COMPLETE,
    Input.CONTENT_TURN_COMPLETE: _E.USER_TURN_COMPLETE,
    Input.SEEDED_HISTORY: _E.USER_TURN_COMPLETE,  # never used: the row never replies
    Input.SPEECH_STARTED: _E.USER_TURN_COMPLETE,
    Input.SPEECH_SUSPECTED: _E.USER_TURN_COMPLETE,  # never used: the row never replies
    Input.SPEECH_CLEARED: _E.USER_TURN_COMPLETE,  # never used: the row never replies
    Input.RESULT_INTERRUPT: _E.TOOL_RESULT_READY,
    Input.RESULT_WHEN_IDLE: _E.TOOL_RESULT_READY,
    Input.RESULT_SILENT: _E.TOOL_RESULT_READY,
    Input.OWED_RESULT: _E.TOOL_RESULT_READY,
    Input.LAST_OWED_RESULT: _E.TOOL_RESULT_READY,
}
"""The event that starts the reply an input asks for: a user's turn, or a tool result."""

HELD_REPLIES_START_AFTER = _E.PLAYBACK_DONE
"""A held reply starts only once the running one has played out. A reply that is cut off drops
it: what was held is in history by then, and the input that cut it off answers (or not) as its
own row says."""


def decide(kind: Input, *, busy: bool, handling: Handling) -> Action:
    idle, interruptible, uninterruptible = INPUT_RULES[kind]
    if not busy:
        return idle
    return interruptible if handling is Handling.INTERRUPTS else uninterruptible


class Turn:
    """The turn state of one session: changed only through :meth:`handle`."""

    def __init__(self) -> None:
        self._state = TurnState.IDLE

    @property
    def state(self) -> TurnState:
        return self._state

    @property
    def busy(self) -> bool:
        return self._state is not TurnState.IDLE

    @property
    def generating(self) -> bool:
        return self._state is TurnState.GENERATING

    def handle(self, event: TurnEvent) -> TurnState:
        self._state = next_state(self._state, event)
        return self._state

    def decide(self, kind: Input, handling: Handling) -> Action:
        return decide(kind, busy=self.busy, handling=handling)
