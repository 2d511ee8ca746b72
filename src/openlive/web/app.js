// The demo page: one Live session at a time, spoken or typed, with transcripts and latency.
//
// Flow: Connect → open the WebSocket, send setup, wait for setupComplete (mic chunks captured
// meanwhile are queued, so nothing said right after the click is lost) → stream 40 ms mic chunks
// as realtimeInput.audio → play 24 kHz reply audio back to back, flushing it on `interrupted`.

import { Microphone, Player } from "./audio.js";
import { LiveClosed, LiveSocket, liveUrl } from "./live.js";
import { base64FromBytes, bytesFromBase64 } from "./pcm.js";
import { fetchTurnTimings, renderTurnTimings } from "./timings.js";
import { EnergyVad } from "./vad.js";
import { DEFAULT_VOICE, VOICES } from "./voices.js";

const CHUNK_MS = 40;
const MAX_QUEUED_CHUNKS = 100; // 4 s of microphone audio held until setupComplete
const INPUT_MIME = "audio/pcm;rate=16000";
const SETTINGS_KEY = "openlive-demo-settings";

const $ = (id) => document.getElementById(id);
const ui = {
  status: $("status"),
  form: $("session-form"),
  fields: $("session-fields"),
  connect: $("connect"),
  mute: $("mute"),
  voice: $("voice"),
  systemInstruction: $("system-instruction"),
  apiKey: $("api-key"),
  useMic: $("use-mic"),
  model: $("model"),
  level: $("mic-level"),
  latency: $("latency"),
  turns: $("turns"),
  sent: $("sent"),
  played: $("played"),
  log: $("log"),
  composer: $("composer"),
  message: $("message"),
  send: $("send"),
  timings: $("turn-timings"),
  waterfalls: $("waterfalls"),
};

// Counters for the panel, and for tests and curious people: `openliveStats` in the console.
const stats = {
  state: "idle",
  sessionId: null,
  audioChunksSent: 0,
  audioChunksReceived: 0,
  audioChunksPlayed: 0,
  audioQueued: 0, // chunks scheduled and not yet played
  audioChunksFlushed: 0, // scheduled chunks dropped on `interrupted`
  textPartsReceived: 0,
  messagesReceived: 0,
  lastMessageAt: null,
  turns: 0,
  interruptions: 0,
  lastLatencyMs: null,
  latenciesMs: [],
  closeCode: null,
  closeReason: null,
  errors: [],
  timedTurns: 0, // turns in the "Turn timings" panel, as last read from the server
};
window.openliveStats = stats;

let session = null; // the live connection and its audio, while connected or connecting

// -- settings form ----------------------------------------------------------------------------

function fillVoices() {
  const sorted = [...VOICES].sort(([a], [b]) => a.localeCompare(b));
  for (const [name, gender] of sorted) {
    ui.voice.add(new Option(`${name} (${gender})`, name, false, name === DEFAULT_VOICE));
  }
}

function readSettings() {
  return {
    modality: ui.form.elements.modality.value,
    voice: ui.voice.value,
    systemInstruction: ui.systemInstruction.value.trim(),
    apiKey: ui.apiKey.value.trim(),
    useMic: ui.useMic.checked,
    model: ui.model.value.trim() || "gemini-live-2.5-flash",
  };
}

function saveSettings(settings) {
  const { apiKey, ...kept } = settings; // never store the key
  try {
    localStorage.setItem(SETTINGS_KEY, JSON.stringify(kept));
  } catch {
    // storage disabled: settings are simply not remembered
  }
}

function restoreSettings() {
  let saved = null;
  try {
    saved = JSON.parse(localStorage.getItem(SETTINGS_KEY) || "null");
  } catch {
    return;
  }
  if (!saved) return;
  if (saved.modality) ui.form.elements.modality.value = saved.modality;
  if (VOICES.some(([name]) => name === saved.voice)) ui.voice.value = saved.voice;
  if (typeof saved.systemInstruction === "string") ui.systemInstruction.value = saved.systemInstruction;
  if (typeof saved.useMic === "boolean") ui.useMic.checked = saved.useMic;
  if (saved.model) ui.model.value = saved.model;
}

function syncVoiceField() {
  ui.voice.disabled = ui.form.elements.modality.value !== "AUDIO";
}

function setupMessage(settings) {
  const setup = {
    model: settings.model.includes("/") ? settings.model : `models/${settings.model}`,
    generationConfig: { responseModalities: [settings.modality] },
    inputAudioTranscription: {},
  };
  if (settings.modality === "AUDIO") {
    setup.generationConfig.speechConfig = {
      voiceConfig: { prebuiltVoiceConfig: { voiceName: settings.voice } },
    };
    setup.outputAudioTranscription = {};
  }
  if (settings.systemInstruction) {
    setup.systemInstruction = { parts: [{ text: settings.systemInstruction }] };
  }
  return setup;
}

// -- status line, stats, conversation log -----------------------------------------------------

function setStatus(state, text) {
  stats.state = state;
  ui.status.dataset.state = state;
  ui.status.textContent = text;
}

function reportError(text) {
  stats.errors.push(text);
  setStatus("error", text);
}

function renderStats() {
  ui.latency.textContent = stats.lastLatencyMs == null ? "—" : `${stats.lastLatencyMs} ms`;
  ui.turns.textContent = String(stats.turns);
  ui.sent.textContent = `${((stats.audioChunksSent * CHUNK_MS) / 1000).toFixed(1)} s`;
  ui.played.textContent = `${stats.audioChunksPlayed} / ${stats.audioChunksReceived}`;
}

// The log follows new messages while it is scrolled to the end (within a line or so); once the
// reader scrolls up, it stays where they put it.
let logPinned = true;
ui.log.addEventListener("scroll", () => {
  const { scrollTop, scrollHeight, clientHeight } = ui.log;
  logPinned = scrollHeight - scrollTop - clientHeight < 80;
});
new ResizeObserver(() => logPinned && (ui.log.scrollTop = ui.log.scrollHeight)).observe(ui.log);

function updateLog(change) {
  const pinned = logPinned;
  change();
  if (pinned) ui.log.scrollTop = ui.log.scrollHeight;
}

function addEntry(entry) {
  updateLog(() => {
    ui.log.querySelector(".hint")?.remove();
    ui.log.append(entry);
  });
  return entry;
}

function addMessage(role, text, { live = false } = {}) {
  const item = document.createElement("li");
  item.className = `msg ${role}${live ? " live" : ""}`;
  const who = document.createElement("span");
  who.className = "who";
  who.textContent = role === "user" ? "You" : "Model";
  const body = document.createElement("p");
  body.className = "text";
  body.textContent = text;
  const meta = document.createElement("span");
  meta.className = "meta";
  item.append(who, body, meta);
  return addEntry(item);
}

function appendText(item, text) {
  updateLog(() => (item.querySelector(".text").textContent += text));
}

function setMeta(item, text) {
  updateLog(() => (item.querySelector(".meta").textContent = text));
}

function note(text, kind = "") {
  const item = document.createElement("li");
  item.className = `note ${kind}`.trim();
  item.textContent = text;
  addEntry(item);
}

// -- turn timings -----------------------------------------------------------------------------

// The session whose timings the panel shows: the current one, or the last one after a disconnect
// (the server keeps a closed session's timings a while).
let timingsOf = null; // { sessionId, apiKey }
let timingsRead = 0; // numbers each read, so a slow answer never replaces a newer one

async function refreshTimings() {
  if (!timingsOf) return;
  const read = ++timingsRead;
  let turns = null;
  try {
    turns = await fetchTurnTimings(timingsOf.sessionId, timingsOf.apiKey);
  } catch {
    return; // the server went away: keep what the panel shows
  }
  if (read !== timingsRead || turns == null) return;
  renderTurnTimings(ui.waterfalls, turns);
  stats.timedTurns = turns.length;
}

ui.timings.addEventListener("toggle", () => ui.timings.open && refreshTimings());

// -- one session ------------------------------------------------------------------------------

class Session {
  constructor(settings) {
    this.settings = settings;
    this.closing = false; // the user asked to disconnect
    this.pending = []; // mic messages captured before setupComplete
    this.vad = new EnergyVad();
    // Audio contexts are made here, inside the click, so autoplay rules let them run.
    this.player =
      settings.modality === "AUDIO"
        ? new Player({
            onPlayed: () => {
              stats.audioChunksPlayed++;
              stats.audioQueued = this.player.sources.size;
              renderStats();
            },
          })
        : null;
    this.player?.resume();
    this.mic = settings.useMic
      ? new Microphone({ onChunk: (pcm, rms) => this.onMicChunk(pcm, rms) })
      : null;
    this.live = new LiveSocket(liveUrl(window.location, settings.apiKey), {
      onMessage: (message) => this.onMessage(message),
      onClose: (code, reason, wasReady) => this.onClose(code, reason, wasReady),
    });
    // Conversation state: the open user and model bubbles, and the latency clock.
    this.userItem = null;
    this.modelItem = null;
    this.replyStarted = false;
    this.replyBoundary = 0; // when the previous reply began: user input before it is old
    this.lastTextAt = null;
    this.lastFinalTranscriptAt = null;
    this.turnLatencyMs = null;
  }

  async start() {
    const mic = this.mic;
    mic?.start().then(
      () => this.mic === mic && note(`Microphone on: ${mic.label}`),
      (error) => {
        mic.stop();
        if (this.mic !== mic) return; // disconnected meanwhile
        this.mic = null;
        ui.mute.disabled = true;
        note(`Microphone unavailable (${error.name}: ${error.message}); you can still type.`, "error");
      },
    );
    const done = await this.live.connect(setupMessage(this.settings));
    stats.sessionId = done.sessionId ?? null;
    if (stats.sessionId) {
      timingsOf = { sessionId: stats.sessionId, apiKey: this.settings.apiKey };
      timingsRead++; // a read still on its way is for the previous session
      renderTurnTimings(ui.waterfalls, []);
      stats.timedTurns = 0;
    }
    for (const message of this.pending.splice(0)) this.sendAudio(message);
    const what = this.settings.modality === "AUDIO" ? `voice ${this.settings.voice}` : "text replies";
    const id = stats.sessionId ? ` · session ${stats.sessionId.slice(0, 8)}` : "";
    setStatus("connected", `Connected · ${what}${id}`);
    note(`Session started · ${what}`);
  }

  stop() {
    this.closing = true;
    this.live.close(1000, "");
    this.teardown();
  }

  teardown() {
    this.mic?.stop();
    this.player?.close();
    this.mic = null;
    stats.audioQueued = 0;
    ui.level.value = 0;
  }

  setMuted(muted) {
    if (!this.mic) return;
    this.mic.setMuted(muted);
    // Tells the server's VAD the stream paused, so it flushes what it buffered (docs/protocol.md §4.3).
    if (muted) this.live.send({ realtimeInput: { audioStreamEnd: true } });
    ui.level.value = 0;
  }

  // -- input --

  onMicChunk(pcm, rms) {
    ui.level.value = Math.min(1, Math.max(0, (20 * Math.log10(rms + 1e-9) + 60) / 60));
    this.vad.update(rms, CHUNK_MS);
    const message = { realtimeInput: { audio: { data: base64FromBytes(pcm), mimeType: INPUT_MIME } } };
    if (this.live.open) {
      this.sendAudio(message);
    } else if (!this.closing) {
      this.pending.push(message);
      if (this.pending.length > MAX_QUEUED_CHUNKS) this.pending.shift();
    }
  }

  sendAudio(message) {
    if (this.live.send(message)) stats.audioChunksSent++;
    if (stats.audioChunksSent % 25 === 0) renderStats();
  }

  sendText(text) {
    if (!this.live.send({ realtimeInput: { text } })) return false;
    this.closeUserItem();
    addMessage("user", text);
    this.lastTextAt = performance.now();
    return true;
  }

  // -- output --

  onMessage(message) {
    stats.messagesReceived++;
    stats.lastMessageAt = performance.now();
    const content = message.serverContent;
    if (content) {
      if (content.interrupted) this.onInterrupted();
      if (content.inputTranscription) this.onInputTranscription(content.inputTranscription);
      for (const part of content.modelTurn?.parts ?? []) this.onPart(part);
      if (content.outputTranscription?.text) this.appendModel(content.outputTranscription.text);
      if (content.turnComplete) this.onTurnComplete(message.usageMetadata);
    }
    if (message.toolCall) note("The model asked for a tool call; this page declares no tools.", "error");
    if (message.goAway) note(`The server is going away in ${message.goAway.timeLeft ?? "a moment"}.`);
  }

  onInputTranscription({ text = "", finished = false }) {
    if (text) {
      if (!this.userItem) this.userItem = addMessage("user", "", { live: true });
      appendText(this.userItem, text);
    }
    if (finished) {
      this.lastFinalTranscriptAt = performance.now();
      this.closeUserItem();
    }
  }

  closeUserItem() {
    this.userItem?.classList.remove("live");
    this.userItem = null;
  }

  onPart(part) {
    if (part.thought) return;
    const data = part.inlineData;
    if (data?.data && (data.mimeType ?? "").startsWith("audio/")) {
      stats.audioChunksReceived++;
      this.replyBegins();
      if (this.player) {
        this.player.enqueue(bytesFromBase64(data.data), data.mimeType);
        stats.audioQueued = this.player.sources.size;
      }
      renderStats();
    } else if (typeof part.text === "string") {
      stats.textPartsReceived++;
      if (this.settings.modality === "TEXT") this.replyBegins();
      this.appendModel(part.text);
    }
  }

  appendModel(text) {
    if (!this.modelItem) this.modelItem = addMessage("model", "", { live: true });
    appendText(this.modelItem, text);
  }

  /** The first reply audio (or text, in text mode) of a turn: the latency clock stops here. */
  replyBegins() {
    if (this.replyStarted) return;
    this.replyStarted = true;
    const now = performance.now();
    const userEnd = this.userEndTime();
    this.replyBoundary = now;
    if (userEnd == null) return;
    this.turnLatencyMs = Math.round(now - userEnd);
    stats.lastLatencyMs = this.turnLatencyMs;
    stats.latenciesMs.push(this.turnLatencyMs);
    renderStats();
  }

  /** When the user finished the input this reply answers: the local VAD's end of speech (or,
   * without one, the final input transcription) or the moment a typed message was sent. */
  userEndTime() {
    const recent = (time) => (time != null && time > this.replyBoundary ? time : null);
    const spoken = recent(this.vad.latestSpeechEnd()) ?? recent(this.lastFinalTranscriptAt);
    const typed = recent(this.lastTextAt);
    if (spoken == null || typed == null) return spoken ?? typed;
    return Math.max(spoken, typed);
  }

  onInterrupted() {
    stats.interruptions++;
    stats.audioChunksFlushed += this.player?.flush() ?? 0;
    stats.audioQueued = 0;
    if (this.modelItem) {
      this.modelItem.classList.add("interrupted");
      setMeta(this.modelItem, "interrupted");
    }
  }

  onTurnComplete(usage) {
    stats.turns++;
    if (this.modelItem) {
      this.modelItem.classList.remove("live");
      const parts = [];
      if (this.modelItem.classList.contains("interrupted")) parts.push("interrupted");
      if (this.turnLatencyMs != null) parts.push(`${this.turnLatencyMs} ms to first ${this.settings.modality === "AUDIO" ? "audio" : "text"}`);
      if (usage?.totalTokenCount) parts.push(`${usage.totalTokenCount} tokens`);
      setMeta(this.modelItem, parts.join(" · "));
    }
    this.modelItem = null;
    this.replyStarted = false;
    this.turnLatencyMs = null;
    renderStats();
    refreshTimings(); // the server keeps a turn's trace before it sends turnComplete
  }

  onClose(code, reason, wasReady) {
    stats.closeCode = code;
    stats.closeReason = reason;
    this.teardown();
    if (session === this) endSession();
    if (this.closing) return; // the user's own disconnect, reported already
    if (code === 1000) {
      setStatus("idle", `The server ended the session${reason ? `: ${reason}` : "."}`);
      note(ui.status.textContent);
      return;
    }
    const why = reason ? `${code} ${reason}` : `${code}${code === 1006 ? " (connection lost)" : ""}`;
    const text = wasReady ? `Connection closed: ${why}` : `Could not connect: closed with ${why}`;
    reportError(text);
    note(text, "error");
  }
}

// -- wiring -----------------------------------------------------------------------------------

function beginSession(settings) {
  session = new Session(settings);
  ui.fields.disabled = true;
  ui.connect.textContent = "Disconnect";
  ui.connect.dataset.connected = "true";
  ui.mute.disabled = !settings.useMic;
  ui.mute.dataset.muted = "false";
  ui.mute.textContent = "Mute mic";
  stats.closeCode = null;
  stats.closeReason = null;
  setStatus("connecting", "Connecting…");
  return session;
}

function endSession() {
  session = null;
  ui.fields.disabled = false;
  syncVoiceField();
  ui.connect.textContent = "Connect";
  ui.connect.dataset.connected = "false";
  ui.mute.disabled = true;
  ui.message.disabled = true;
  ui.send.disabled = true;
}

ui.form.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (session) {
    session.stop();
    endSession();
    setStatus("idle", "Disconnected.");
    note("Session ended.");
    return;
  }
  const settings = readSettings();
  saveSettings(settings);
  const current = beginSession(settings);
  try {
    await current.start();
    if (session !== current) return;
    ui.message.disabled = false;
    ui.send.disabled = false;
    ui.message.focus();
  } catch (error) {
    if (error instanceof LiveClosed) return; // onClose reported it
    current.stop();
    if (session === current) endSession();
    reportError(`Could not connect: ${error.message}`);
  }
});

ui.mute.addEventListener("click", () => {
  if (!session) return;
  const muted = ui.mute.dataset.muted !== "true";
  session.setMuted(muted);
  ui.mute.dataset.muted = String(muted);
  ui.mute.textContent = muted ? "Unmute mic" : "Mute mic";
});

ui.composer.addEventListener("submit", (event) => {
  event.preventDefault();
  const text = ui.message.value.trim();
  if (!text || !session) return;
  if (session.sendText(text)) ui.message.value = "";
});

for (const radio of ui.form.elements.modality) radio.addEventListener("change", syncVoiceField);

window.addEventListener("unhandledrejection", (event) => {
  reportError(`Error: ${event.reason?.message ?? event.reason}`);
});

fillVoices();
restoreSettings();
syncVoiceField();
renderStats();
