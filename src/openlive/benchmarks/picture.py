"""The voice bench's picture, as a hand-written SVG (no plotting library in the install):

(a) voice-to-voice as felt by the client, one strip-and-box row a run, p50 and p95 marked;
(b) where each turn's time went on the server, one stacked bar a turn (endpointing, ASR, the wait
    between stages, LLM first token, TTS first chunk), one band a run, all on one scale.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from .runs import STAGES, TOTAL, Run, percentile

WIDTH = 960
LEFT = 200  # room for the run labels
RIGHT = 40
ROW = 56  # one run in the distribution panel
BAND = 150  # one run in the per-turn panel
FONT = "DejaVu Sans, Verdana, sans-serif"
RUN_COLOURS = ("#64748b", "#2563eb", "#db2777", "#16a34a", "#ea580c")
WAIT = "wait"  # time inside voice-to-voice that no stage covers (e.g. LLM request set-up)
SEGMENTS = (STAGES[0], STAGES[1], WAIT, STAGES[2], STAGES[3])
STAGE_COLOURS = {
    "endpointing": "#8b5cf6",
    "asr_final": "#0ea5e9",
    WAIT: "#cbd5e1",
    "llm_first_token": "#f59e0b",
    "tts_first_chunk": "#10b981",
}
Scale = Callable[[float], float]  # milliseconds → pixels

STAGE_NAMES = {
    "endpointing": "endpointing",
    "asr_final": "ASR final",
    WAIT: "between stages",
    "llm_first_token": "LLM first token",
    "tts_first_chunk": "TTS first chunk",
}


def render_svg(runs: list[Run], title: str = "voice latency") -> str:
    picture = _Picture()
    picture.text(20, 28, title, size=16, weight="bold")
    y = picture.distribution(runs, 56)
    picture.per_turn(runs, y + 40)
    return picture.svg()


def write_picture(runs: list[Run], path: Path, title: str = "voice latency") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_svg(runs, title), encoding="utf-8")


def nice_scale(top: float, ticks: int = 5) -> tuple[float, float]:
    """An axis end at or above ``top``, and a round step (1, 2 or 5 × 10^k) to tick it by."""
    if not top > 0 or math.isinf(top):
        return 1000.0, 200.0
    rough = top / ticks
    power = 10 ** math.floor(math.log10(rough))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= rough)
    return math.ceil(top / step) * step, step


class _Picture:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self.height = 0.0

    # -- primitives ---------------------------------------------------------------------------

    def text(
        self,
        x: float,
        y: float,
        content: str,
        *,
        size: int = 12,
        anchor: str = "start",
        weight: str = "normal",
        fill: str = "#1f2937",
    ) -> None:
        self.parts.append(
            f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
            f'font-weight="{weight}" fill="{fill}">{escape(content)}</text>'
        )
        self.height = max(self.height, y + 8)

    def line(self, x1: float, y1: float, x2: float, y2: float, stroke: str, **extra: str) -> None:
        attributes = "".join(
            f' {name.replace("_", "-")}="{value}"' for name, value in extra.items()
        )
        self.parts.append(
            f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
            f'stroke="{stroke}"{attributes}/>'
        )

    def rect(
        self, x: float, y: float, w: float, h: float, fill: str, tip: str, **data: str
    ) -> None:
        attributes = "".join(f" data-{name}={quoteattr(value)}" for name, value in data.items())
        self.parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0):.1f}" height="{max(h, 0):.1f}" '
            f'fill="{fill}"{attributes}><title>{escape(tip)}</title></rect>'
        )

    def open_group(self, kind: str, run: str, **data: str) -> None:
        attributes = "".join(f" data-{name}={quoteattr(value)}" for name, value in data.items())
        self.parts.append(f"<g class={quoteattr(kind)} data-run={quoteattr(run)}{attributes}>")

    def close_group(self) -> None:
        self.parts.append("</g>")

    def svg(self) -> str:
        height = math.ceil(self.height + 16)
        body = "\n".join(self.parts)
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
            f'viewBox="0 0 {WIDTH} {height}" font-family="{FONT}">\n'
            f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>\n{body}\n</svg>\n'
        )

    # -- (a) voice-to-voice distribution ------------------------------------------------------

    def distribution(self, runs: list[Run], top: float) -> float:
        self.text(LEFT, top, "(a) voice-to-voice at the client: end of speech → first reply audio")
        samples = [run.client_ms.get("voice_to_voice", []) for run in runs]
        end, step = nice_scale(max((max(s) for s in samples if s), default=0) * 1.05)
        x = _axis(LEFT, WIDTH - RIGHT, end)
        first_row = top + 14
        bottom = first_row + ROW * len(runs)
        self._x_grid(x, end, step, first_row, bottom)
        for index, (run, values) in enumerate(zip(runs, samples, strict=True)):
            colour = RUN_COLOURS[index % len(RUN_COLOURS)]
            middle = first_row + ROW * index + ROW / 2
            self.open_group("distribution", run.label, figure="voice_to_voice")
            self.text(LEFT - 10, middle - 2, run.label, anchor="end", weight="bold", fill=colour)
            self.text(LEFT - 10, middle + 12, f"n = {len(values)}", anchor="end", size=10)
            if values:
                self._box(values, x, middle, colour)
            self.close_group()
        return bottom + 8

    def _box(self, values: list[float], x: Scale, middle: float, colour: str) -> None:
        p25, p50, p75, p95 = (percentile(values, q) for q in (25, 50, 75, 95))
        self.line(x(min(values)), middle, x(max(values)), middle, colour, stroke_width="1")
        self.rect(
            x(p25),
            middle - 9,
            x(p75) - x(p25),
            18,
            colour + "33",
            f"p25–p75 {p25:.0f}–{p75:.0f} ms",
        )
        for i, value in enumerate(values):  # the strip: every turn, spread a little vertically
            jitter = (i * 37 % 13 - 6) * 1.1
            self.parts.append(
                f'<circle cx="{x(value):.1f}" cy="{middle + jitter:.1f}" r="2.6" fill="{colour}" '
                f'fill-opacity="0.75" data-ms="{value:.0f}"/>'
            )
        self.parts.append(
            f'<line class="p50" x1="{x(p50):.1f}" y1="{middle - 13:.1f}" x2="{x(p50):.1f}" '
            f'y2="{middle + 13:.1f}" stroke="#111827" stroke-width="3" data-ms="{p50:.0f}"/>'
        )
        self.parts.append(
            f'<line class="p95" x1="{x(p95):.1f}" y1="{middle - 13:.1f}" x2="{x(p95):.1f}" '
            f'y2="{middle + 13:.1f}" stroke="#dc2626" stroke-width="2" stroke-dasharray="3 2" '
            f'data-ms="{p95:.0f}"/>'
        )
        self.text(x(p50), middle - 16, f"p50 {p50:.0f}", size=10, anchor="middle")
        self.text(x(p95), middle + 24, f"p95 {p95:.0f}", size=10, anchor="middle", fill="#dc2626")

    def _x_grid(self, x: Scale, end: float, step: float, top: float, bottom: float) -> None:
        tick = 0.0
        while tick <= end + step / 2:
            self.line(x(tick), top, x(tick), bottom, "#e5e7eb")
            self.text(x(tick), bottom + 12, f"{tick:.0f}", size=10, anchor="middle", fill="#6b7280")
            tick += step
        self.text(WIDTH - RIGHT, bottom + 26, "ms", size=10, anchor="end", fill="#6b7280")

    # -- (b) where each turn's time went ------------------------------------------------------

    def per_turn(self, runs: list[Run], top: float) -> None:
        self.text(LEFT, top, "(b) where each turn's time went on the server (turn trace)")
        self._legend(top + 18)
        turns = [[_segments(turn) for turn in run.server_turns if TOTAL in turn] for run in runs]
        tallest = max((sum(seg.values()) for run in turns for seg in run), default=0.0)
        end, step = nice_scale(tallest * 1.05)
        band_top = top + 40
        for index, (run, segments) in enumerate(zip(runs, turns, strict=True)):
            colour = RUN_COLOURS[index % len(RUN_COLOURS)]
            self._band(run.label, segments, band_top, end, step, colour)
            band_top += BAND + 36

    def _legend(self, y: float) -> None:
        x = LEFT
        for segment in SEGMENTS:
            self.rect(x, y - 9, 12, 12, STAGE_COLOURS[segment], STAGE_NAMES[segment])
            self.text(x + 16, y + 1, STAGE_NAMES[segment], size=11)
            x += 30 + 7 * len(STAGE_NAMES[segment])

    def _band(
        self,
        label: str,
        turns: list[dict[str, float]],
        top: float,
        end: float,
        step: float,
        colour: str,
    ) -> None:
        bottom = top + BAND
        y = _axis(bottom, top, end)  # grows upwards
        tick = 0.0
        while tick <= end + step / 2:
            self.line(LEFT, y(tick), WIDTH - RIGHT, y(tick), "#e5e7eb")
            self.text(LEFT - 4, y(tick) + 3, f"{tick:.0f}", size=9, anchor="end", fill="#6b7280")
            tick += step
        self.text(LEFT - 4, top - 6, "ms", size=9, anchor="end", fill="#6b7280")
        self.text(LEFT - 40, top + BAND / 2 - 4, label, anchor="end", weight="bold", fill=colour)
        self.text(LEFT - 40, top + BAND / 2 + 10, f"{len(turns)} turns", anchor="end", size=10)
        if not turns:
            self.text(LEFT + 10, top + BAND / 2, "no server turn traces", size=11, fill="#6b7280")
            return
        slot = (WIDTH - RIGHT - LEFT) / len(turns)
        width = max(1.0, min(22.0, slot * 0.75))
        for number, segments in enumerate(turns, start=1):
            left = LEFT + slot * (number - 1) + (slot - width) / 2
            self.open_group("turn", label, turn=str(number))
            base = 0.0
            for segment in SEGMENTS:
                ms = segments.get(segment, 0.0)
                if ms <= 0:
                    continue
                self.rect(
                    left,
                    y(base + ms),
                    width,
                    y(base) - y(base + ms),
                    STAGE_COLOURS[segment],
                    f"turn {number} {STAGE_NAMES[segment]}: {ms:.0f} ms",
                    stage=segment,
                    ms=f"{ms:.0f}",
                )
                base += ms
            self.close_group()
        self.line(LEFT, bottom, WIDTH - RIGHT, bottom, "#9ca3af")
        self.text(WIDTH - RIGHT, bottom + 14, "turns, in order →", size=10, anchor="end")


def _segments(turn: dict[str, float]) -> dict[str, float]:
    """A turn's stages, plus the part of voice-to-voice no stage covers (never below zero)."""
    segments = {stage: turn.get(stage, 0.0) for stage in STAGES}
    segments[WAIT] = max(0.0, turn[TOTAL] - sum(segments.values()))
    return segments


def _axis(start: float, stop: float, end: float) -> Scale:
    """Maps 0…end (ms) onto start…stop (pixels)."""
    return lambda value: start + (stop - start) * min(max(value, 0.0), end) / end
