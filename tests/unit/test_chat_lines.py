"""``openlive chat`` with piped stdin prints each reply on one line, however the model breaks
its lines and however the stream cuts them."""

from __future__ import annotations

import io

import pytest

from openlive.client.chat_app import OneLine

REPLY = "\nHello there!\nYour name: Aurora\n\n  - one\n- two  \n"


@pytest.mark.parametrize("size", [1, 2, 3, 7, len(REPLY)])
def test_a_reply_with_line_breaks_is_one_line(size: int) -> None:
    out = io.StringIO()
    line = OneLine(out)
    for start in range(0, len(REPLY), size):
        line.write(REPLY[start : start + size])
    assert out.getvalue() == "Hello there! Your name: Aurora - one - two  "
    assert "\n" not in out.getvalue()
