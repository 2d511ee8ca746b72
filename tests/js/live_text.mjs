// Drives openlive with the official @google/genai SDK; used by tests/e2e/test_js_client.py.
//   node live_text.mjs BASE_URL            two text turns, prints one JSON summary line
//   node live_text.mjs BASE_URL bad-config  connect with AUDIO+TEXT, prints {"connectError": ...}
// Exits non-zero with a message on any error, or after 60 s.
import { GoogleGenAI, Modality } from "@google/genai";

const [baseUrl, mode = "text"] = process.argv.slice(2);
const fail = (message) => {
  console.error(`live_text.mjs: ${message}`);
  process.exit(1);
};
if (!baseUrl) fail("usage: node live_text.mjs BASE_URL [text|bad-config]");
const timer = setTimeout(() => fail("timed out after 60 s"), 60_000);

const ai = new GoogleGenAI({ apiKey: "js-test-key", httpOptions: { baseUrl, apiVersion: "v1beta" } });
const model = "gemini-live-2.5-flash";

let setupComplete = null;
let current = null; // the turn being received
let closed = false;

function nextTurn() {
  return new Promise((resolve, reject) => {
    current = { chunks: 0, text: "", generationComplete: false, usageMetadata: null, resolve, reject };
  });
}

function onmessage(msg) {
  if (msg.setupComplete) setupComplete = msg.setupComplete;
  if (!current) return;
  const content = msg.serverContent;
  const texts = (content?.modelTurn?.parts ?? []).filter((p) => typeof p.text === "string");
  if (texts.length) {
    current.chunks += 1;
    current.text += texts.map((p) => p.text).join("");
  }
  if (content?.generationComplete) current.generationComplete = true;
  if (msg.usageMetadata) current.usageMetadata = msg.usageMetadata;
  if (content?.turnComplete) {
    const { resolve, reject, generationComplete, ...turn } = current;
    current = null;
    resolve({ ...turn, generationCompleteFirst: generationComplete });
  }
}

const callbacks = {
  onmessage,
  onerror: (e) => current?.reject(new Error(`onerror: ${e?.message ?? e}`)),
  onclose: (e) => {
    closed = true;
    current?.reject(new Error(`closed mid-turn (code ${e?.code}): ${e?.reason}`));
  },
};

async function textTurns() {
  const config = { responseModalities: [Modality.TEXT], systemInstruction: "You are terse.",
                   maxOutputTokens: 40 };
  const session = await ai.live.connect({ model, config, callbacks });
  let done = nextTurn();
  session.sendClientContent({ turns: [{ role: "user", parts: [{ text: "Hello from JS" }] }],
                              turnComplete: true });
  const first = await done;
  done = nextTurn();
  session.sendRealtimeInput({ text: "Second turn" });
  const second = await done;
  session.close();
  return { setupComplete: setupComplete !== null, sessionId: setupComplete?.sessionId ?? null,
           closedEarly: closed, turns: [first, second] };
}

async function badConfig() {
  const config = { responseModalities: [Modality.AUDIO, Modality.TEXT] };
  try {
    const session = await ai.live.connect({ model, config, callbacks });
    session.close();
    return { connectError: null };
  } catch (e) {
    return { connectError: String(e?.message ?? e) };
  }
}

try {
  const result = mode === "bad-config" ? await badConfig() : await textTurns();
  console.log(JSON.stringify(result));
  clearTimeout(timer);
} catch (e) {
  fail(e?.stack ?? String(e));
}
