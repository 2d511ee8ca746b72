"""The words' end-of-turn signal: the loaded LLM's probability that the user's text is over.

The prompt tests use a scripted runtime (a hand-written ChatML template); the rest run the
packaged default model (Qwen2.5-Coder-1.5B) in the embedded runtime. Judged over sets of
sentences, never one score at a threshold: the scores move with the model and the CPU.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from openlive.assets import ensure_llm_assets
from openlive.engines.listening import TURN_RULES
from openlive.engines.llm.embedded import EmbeddedLLM
from openlive.engines.llm.model_source import resolve_gguf
from openlive.engines.turn import TextEndOfTurn, text_end_of_turn
from openlive.settings import Settings

HISTORY = [{"role": "system", "content": "You are a helpful voice assistant."}]
# (a finished turn, the same turn stopped mid-phrase)
PAIRS = [
    ("What is the tallest mountain in the world?", "What is the tallest mountain in"),
    ("Can you recommend a good book for a long flight?", "Can you recommend a good book for a"),
    ("How do I make a cup of green tea?", "How do I make a cup of"),
    ("Why is the sky blue during the day?", "Why is the sky"),
    ("I would like to know the best way to learn a new language.", "I would like to know the"),
    ("Please remind me to call my sister when I get home.", "Please remind me to call my"),
]


class ChatML:
    """A scripted runtime: renders ChatML by hand and records the prompts it is asked about."""

    END = 7

    def __init__(self) -> None:
        self.prompts: list[str] = []

    def render(self, messages: list[dict[str, Any]]) -> str:
        body = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
        return body + "<|im_start|>assistant\n"

    def token_ids(self, text: str) -> list[int]:
        if text.startswith("<|im_end|>"):
            return [self.END, 1]
        return [100 + ord(text[0])] if text else []

    def next_token_probabilities(self, prompt: str, top: int = 10) -> dict[int, float]:
        self.prompts.append(prompt)
        return {self.END: 0.25, 100 + ord("?"): 0.5, 42: 0.2, 43: 0.05}


def test_the_end_token_is_read_from_the_template() -> None:
    assert TextEndOfTurn(ChatML()).end_token == ChatML.END


def test_the_prompt_stops_right_after_the_words_without_their_punctuation() -> None:
    runtime = ChatML()
    signal = TextEndOfTurn(runtime)
    history = [*HISTORY, {"role": "assistant", "content": "Hello!"}]
    p = signal.probability(history, " What time is it in Tokyo? ")
    assert runtime.prompts == [
        "<|im_start|>system\nYou are a helpful voice assistant.<|im_end|>\n"
        "<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\nWhat time is it in Tokyo"
    ]
    # The end token or a closing mark next: 0.25 + 0.5, and "." / "!" (outside the top) at
    # most as likely as the least likely token listed.
    assert p == pytest.approx(0.25 + 0.5 + 2 * 0.05)


def test_a_user_turn_already_last_in_history_is_continued() -> None:
    runtime = ChatML()
    TextEndOfTurn(runtime).probability([*HISTORY, {"role": "user", "content": "Hi."}], "And you")
    assert runtime.prompts[-1].endswith("<|im_start|>user\nHi.\nAnd you")


def test_no_words_no_opinion() -> None:
    runtime = ChatML()
    assert TextEndOfTurn(runtime).probability(HISTORY, " ... ") is None
    assert runtime.prompts == []


def test_a_prefill_runs_the_prompt_the_signal_will_run_and_never_queues() -> None:
    import threading

    class SlowChatML(ChatML):
        """Holds every request until released, as a busy runtime would."""

        def __init__(self) -> None:
            super().__init__()
            self.entered, self.release = threading.Event(), threading.Event()

        def next_token_probabilities(self, prompt: str, top: int = 10) -> dict[int, float]:
            self.entered.set()
            self.release.wait(5)
            return super().next_token_probabilities(prompt, top)

    runtime = SlowChatML()
    signal = TextEndOfTurn(runtime)
    first = threading.Thread(target=signal.prefill, args=(HISTORY, "What time is it"))
    first.start()
    assert runtime.entered.wait(5)
    # Another session's words while the first prefill runs: skipped at once, not queued.
    assert signal.prefill(HISTORY, "How do I make") is False
    runtime.release.set()
    first.join(5)
    assert signal.prefill(HISTORY, "What time is it in") is True
    signal.probability(HISTORY, "What time is it in Tokyo?")
    head, later, judged = runtime.prompts
    assert head.endswith("<|im_start|>user\nWhat time is it") and judged.startswith(later)
    assert signal.prefill(HISTORY, " ... ") is False  # no words: nothing to run


def test_an_llm_without_next_token_probabilities_gives_no_signal() -> None:
    assert text_end_of_turn(object()) is None


@pytest.fixture(scope="module")
def text_eou() -> Iterator[TextEndOfTurn]:
    settings = Settings()
    ensure_llm_assets(settings.models_dir, progress=False)
    llm = EmbeddedLLM(resolve_gguf("", settings.models_dir), threads=2, context=2048, parallel=1)
    asyncio.run(llm.load())
    signal = text_end_of_turn(llm)
    assert signal is not None
    yield signal
    asyncio.run(llm.aclose())


def test_the_packaged_models_end_token_is_its_templates(text_eou: TextEndOfTurn) -> None:
    scorer = text_eou._scorer
    assert [text_eou.end_token] == scorer.token_ids("<|im_end|>")  # ChatML's, found by rendering


def test_finished_turns_score_higher_than_the_same_turns_cut(text_eou: TextEndOfTurn) -> None:
    scores = [
        (text_eou.probability(HISTORY, done), text_eou.probability(HISTORY, cut))
        for done, cut in PAIRS
    ]
    assert all(done is not None and cut is not None and done > cut for done, cut in scores), scores
    rules = TURN_RULES
    assert sum(done >= rules.text_yes for done, _ in scores) >= len(PAIRS) - 1, scores  # type: ignore[operator]
    assert sum(cut < rules.text_no for _, cut in scores) >= len(PAIRS) - 1, scores  # type: ignore[operator]
