"""``usageMetadata`` for a finished turn: what the engine counted, or an estimate where it could
not count (an interrupted reply), split by modality the way the hosted service reports it."""

from __future__ import annotations

from ..engines.llm import Usage
from ..protocol.server_messages import ModalityTokenCount, UsageMetadata
from .camera import camera_tokens
from .context_window import TokenEstimator
from .history import Conversation


def usage_metadata(
    usage: Usage | None,
    *,
    produced_fragments: int,
    conversation: Conversation,
    tokens: TokenEstimator,
    modality: str,
    vertex_names: bool,
) -> UsageMetadata:
    if usage is not None:
        prompt, response = usage.prompt_tokens, usage.completion_tokens
        cached = usage.cached_tokens or None
    else:
        # Interrupted before the engine reported usage: the prompt was still processed
        # (estimated from the last real count), and each streamed fragment is one token.
        prompt = tokens.estimate(conversation)
        response, cached = produced_fragments, None
    details = [ModalityTokenCount(modality=modality, token_count=response)]
    # Camera frames reach the LLM as text notes; their tokens are the IMAGE share.
    image = min(prompt, camera_tokens(conversation.entries, tokens.entry_tokens))
    prompt_details = [ModalityTokenCount(modality="TEXT", token_count=prompt - image)]
    if image:
        prompt_details.append(ModalityTokenCount(modality="IMAGE", token_count=image))
    metadata = UsageMetadata(
        prompt_token_count=prompt,
        cached_content_token_count=cached,
        total_token_count=prompt + response,
        prompt_tokens_details=prompt_details,
    )
    if vertex_names:
        metadata.candidates_token_count = response
        metadata.candidates_tokens_details = details
    else:
        metadata.response_token_count = response
        metadata.response_tokens_details = details
    return metadata
