"""Next-token probabilities from the embedded runtime: what the text end-of-turn signal asks.

The chat template and the tokenizer are the model's own, read through the runtime's loopback HTTP
endpoints (``/apply-template``, ``/tokenize``: xllamacpp exposes no binding for them); the
probabilities come from ``handle_completions`` with ``n_probs``, one token, so the cost is the
prefill of whatever the slot's cache does not hold yet. The runtime keeps that prefill in the
slot, and a reply that starts with the same text reuses it.
"""

from __future__ import annotations

import math
from typing import Any

import httpx


class NextTokenScorer:
    """Blocking calls: run them in a worker thread, never on the event loop."""

    def __init__(self, server: Any, address: str, api_key: str) -> None:
        self._server = server
        # The runtime's own loopback port, plain HTTP: no proxy from the environment, and no
        # CA bundle to load (a stale SSL_CERT_FILE must not stop the server from starting).
        self._http = httpx.Client(
            base_url=address,
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=10.0,
            trust_env=False,
            verify=False,
        )

    def render(self, messages: list[dict[str, Any]]) -> str:
        """The prompt the model's chat template makes of ``messages`` (with the generation
        prompt, as a reply would see it)."""
        response = self._http.post("/apply-template", json={"messages": messages})
        response.raise_for_status()
        return str(response.json()["prompt"])

    def token_ids(self, text: str) -> list[int]:
        """``text`` as token ids, special tokens (``<|im_end|>``) parsed as such."""
        response = self._http.post("/tokenize", json={"content": text, "add_special": False})
        response.raise_for_status()
        return [int(token) for token in response.json()["tokens"]]

    def next_token_probabilities(self, prompt: str, top: int = 10) -> dict[int, float]:
        """The ``top`` most likely next tokens after ``prompt`` (raw text, special tokens
        parsed), as {token id: probability} over the whole vocabulary (before sampling)."""
        result = self._server.handle_completions(
            {
                "prompt": prompt,
                "n_predict": 1,
                "n_probs": top,
                "temperature": 0.0,
                "cache_prompt": True,
                "post_sampling_probs": False,
            }
        )
        if not isinstance(result, dict) or result.get("error"):
            raise RuntimeError(f"next-token request failed: {result!r}"[:300])
        (choice,) = result["choices"]
        (first,) = choice["logprobs"]["content"]
        return {int(t["id"]): math.exp(float(t["logprob"])) for t in first["top_logprobs"]}

    def close(self) -> None:
        self._http.close()
