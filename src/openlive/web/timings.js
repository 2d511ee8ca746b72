// The "Turn timings" panel: each turn's stages, from the server's turn trace, as a small waterfall.
//
// The Live socket cannot carry them (official clients parse every server message), so the page
// reads them over HTTP from openlive's own endpoint (docs/protocol.md §12), with the same API key
// as the session. Bars share one time axis, starting at the user's end of speech (a typed turn
// starts at its LLM request), so turns can be compared at a glance.

// [stage, label, from point, to point]: the server's stage names and the points that bound them.
const STAGES = [
  ["endpointing", "Endpointing", "speechEnd", "turnEnd"],
  ["asr_final", "ASR final", "turnEnd", "transcriptReady"],
  ["llm_first_token", "LLM first token", "replyStart", "firstToken"],
  ["tts_first_chunk", "TTS first chunk", "firstToken", "firstAudio"],
  ["voice_to_voice", "Voice-to-voice", "speechEnd", "firstAudio"],
];

/** The session's recent turns (oldest first), or null when the server has none for us. */
export async function fetchTurnTimings(sessionId, apiKey) {
  const headers = apiKey ? { "x-goog-api-key": apiKey } : {};
  const response = await fetch(`/v1/live/sessions/${encodeURIComponent(sessionId)}/turns`, {
    headers,
    cache: "no-store",
  });
  if (!response.ok) return null;
  return (await response.json()).turns ?? [];
}

/** Replaces the list's content with one waterfall per turn, newest first. */
export function renderTurnTimings(list, turns) {
  list.replaceChildren();
  if (!turns.length) {
    const hint = document.createElement("li");
    hint.className = "hint";
    hint.textContent = "No turns yet: speak or type, and each turn's stages show up here.";
    list.append(hint);
    return;
  }
  const spanMs = Math.max(1, ...turns.flatMap((turn) => Object.values(turn.offsetsMs ?? {})));
  for (const turn of [...turns].reverse()) list.append(waterfall(turn, spanMs));
}

function waterfall(turn, spanMs) {
  const item = document.createElement("li");
  item.className = "waterfall";
  item.dataset.turn = String(turn.turn);
  item.dataset.origin = turn.origin;
  const title = document.createElement("p");
  title.className = "waterfall-title";
  const total = turn.stagesMs.voice_to_voice;
  const parts = [`Turn ${turn.turn}`];
  if (total != null) parts.push(`${Math.round(total)} ms voice-to-voice`);
  else parts.push(turn.origin === "speechEnd" ? "spoken" : "typed");
  if (turn.outcome === "interrupted") parts.push("interrupted");
  title.textContent = parts.join(" · ");
  item.append(title);
  const offsets = turn.offsetsMs ?? {};
  for (const [stage, label, from, to] of STAGES) {
    const ms = turn.stagesMs[stage];
    if (ms == null || offsets[from] == null || offsets[to] == null) continue;
    item.append(stageRow(stage, label, offsets[from], offsets[to], ms, spanMs));
  }
  return item;
}

function stageRow(stage, label, startMs, endMs, ms, spanMs) {
  const row = document.createElement("div");
  row.className = "stage";
  row.dataset.stage = stage;
  const name = document.createElement("span");
  name.className = "stage-name";
  name.textContent = label;
  const track = document.createElement("span");
  track.className = "stage-track";
  const bar = document.createElement("span");
  bar.className = "stage-bar";
  const percent = (value) => `${Math.min(100, Math.max(0, (value / spanMs) * 100)).toFixed(2)}%`;
  bar.style.left = percent(startMs);
  bar.style.width = percent(Math.max(0, endMs - startMs));
  bar.title = `${label}: ${Math.round(startMs)} → ${Math.round(endMs)} ms`;
  track.append(bar);
  const value = document.createElement("span");
  value.className = "stage-ms";
  value.textContent = `${Math.round(ms)} ms`;
  row.append(name, track, value);
  return row;
}
