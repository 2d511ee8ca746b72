"""The voice bench's picture and comparison table, from runs as ``--json`` writes them."""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from pathlib import Path

from rich.console import Console

from openlive.benchmarks.compare import comparison_rows, comparison_table
from openlive.benchmarks.picture import nice_scale, render_svg, write_picture
from openlive.benchmarks.runs import Run, load_runs, turn_traces

SVG = "{http://www.w3.org/2000/svg}"


def turn(endpointing: float, asr: float, llm: float, tts: float, wait: float = 10.0) -> dict:
    return {
        "endpointing": endpointing,
        "asr_final": asr,
        "llm_first_token": llm,
        "tts_first_chunk": tts,
        "voice_to_voice": endpointing + asr + wait + llm + tts,
    }


OLD = Run(
    "old abc1234",
    {"voice_to_voice": [900.0, 1000.0, 1100.0, 2000.0], "barge_in": [300.0, 320.0]},
    [turn(300, 150, 400, 200), turn(320, 140, 420, 210), turn(310, 160, 900, 250)],
)
NEW = Run(
    "new <def>",  # a label that must be escaped in XML
    {"voice_to_voice": [450.0, 500.0, 550.0, 1000.0], "barge_in": [300.0, 340.0]},
    [turn(300, 150, 200, 100), turn(280, 120, 210, 90)],
)


def test_the_picture_is_svg_with_each_runs_distribution_and_stacked_turns(tmp_path: Path) -> None:
    path = tmp_path / "pictures" / "voice.svg"
    write_picture([OLD, NEW], path, "voice latency: new vs old")
    root = ET.fromstring(path.read_text())
    assert root.tag == f"{SVG}svg"

    groups = list(root.iter(f"{SVG}g"))
    distributions = [g for g in groups if g.get("class") == "distribution"]
    assert [g.get("data-run") for g in distributions] == [OLD.label, NEW.label]
    for group, run in zip(distributions, (OLD, NEW), strict=True):
        points = [float(c.get("data-ms", "nan")) for c in group.iter(f"{SVG}circle")]
        assert points == run.client_ms["voice_to_voice"]
        [p50] = [line for line in group.iter(f"{SVG}line") if line.get("class") == "p50"]
        [p95] = [line for line in group.iter(f"{SVG}line") if line.get("class") == "p95"]
        assert float(p50.get("data-ms", "nan")) < float(p95.get("data-ms", "nan"))
    texts = [t.text or "" for t in root.iter(f"{SVG}text")]
    assert "p50 1050" in texts and "p50 525" in texts

    turns = [g for g in groups if g.get("class") == "turn"]
    assert [(g.get("data-run"), g.get("data-turn")) for g in turns] == [
        (OLD.label, "1"),
        (OLD.label, "2"),
        (OLD.label, "3"),
        (NEW.label, "1"),
        (NEW.label, "2"),
    ]
    first = {r.get("data-stage"): float(r.get("data-ms", "nan")) for r in turns[0]}
    # Stacked in the order a turn passes them, with the time no stage covers as "wait".
    assert list(first) == ["endpointing", "asr_final", "wait", "llm_first_token", "tts_first_chunk"]
    assert first == {
        "endpointing": 300,
        "asr_final": 150,
        "wait": 10,
        "llm_first_token": 400,
        "tts_first_chunk": 200,
    }


def test_a_run_without_server_traces_still_draws() -> None:
    root = ET.fromstring(render_svg([Run("remote", {"voice_to_voice": [700.0]})]))
    assert not [g for g in root.iter(f"{SVG}g") if g.get("class") == "turn"]
    assert "no server turn traces" in [t.text for t in root.iter(f"{SVG}text")]


def test_the_comparison_gives_p50_p95_and_new_over_old_for_each_figure() -> None:
    rows = {row.figure: row for row in comparison_rows([OLD, NEW])}
    assert list(rows)[:2] == ["voice-to-voice (client)", "barge-in → interrupted (client)"]
    v2v = rows["voice-to-voice (client)"]
    assert v2v.n == [4, 4]
    assert v2v.p50 == [1050.0, 525.0] and v2v.p50_ratio() == 0.5
    assert math.isclose(v2v.p95_ratio(), v2v.p95[1] / v2v.p95[0])
    llm = rows["server: llm_first_token"]
    assert llm.p50 == [420.0, 205.0]
    assert rows["server: voice_to_voice"].n == [3, 2]

    console = Console(record=True, width=100)
    console.print(comparison_table([OLD, NEW]))
    lines = console.export_text().splitlines()
    assert any("new/old p50 · p95" in line for line in lines)
    [old_line] = [line for line in lines if "voice-to-voice (client)" in line]
    [new_line] = [line for line in lines if "new <def>" in line and "525" in line]
    assert "1050" in old_line and "0.50" not in old_line
    assert f"0.50 · {v2v.p95_ratio():.2f}" in new_line  # p50 525 over 1050
    assert any("server: tts_first_chunk" in line for line in lines)


def test_runs_read_back_from_json_outputs(tmp_path: Path) -> None:
    single = tmp_path / "old.json"
    single.write_text(json.dumps({**OLD.to_json(), "llm": "x"}))
    both = tmp_path / "both.json"
    both.write_text(json.dumps({"runs": [OLD.to_json(), NEW.to_json()]}))
    legacy = tmp_path / "legacy.json"  # before samples were saved: the per-clip turns
    legacy.write_text(json.dumps({"turns": [{"clip": "a", "voice_to_voice_ms": 800}]}))
    runs = load_runs([single, both, legacy])
    assert [run.label for run in runs] == [OLD.label, OLD.label, NEW.label, "legacy"]
    assert runs[2].server_turns == NEW.server_turns
    assert runs[3].client_ms == {"voice_to_voice": [800.0]}


def test_turn_traces_are_read_per_turn_from_the_server_log() -> None:
    log = (
        'INFO openlive.trace: turn trace 0a1b {"endpointing": 300.0, "voice_to_voice": 900.5}\n'
        "INFO openlive.session: session 0a1b closed\n"
        'INFO openlive.trace: turn trace 0a1b {"llm_first_token": 200.0}\n'
    )
    assert turn_traces(log) == [
        {"endpointing": 300.0, "voice_to_voice": 900.5},
        {"llm_first_token": 200.0},
    ]


def test_axis_ends_on_a_round_number() -> None:
    assert nice_scale(1830) == (2000, 500)
    assert nice_scale(0) == (1000.0, 200.0)
