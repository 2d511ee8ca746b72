// Runs Firebase's Web Live API sample (firebase_web/sample.js, bundled from the pinned
// @firebase/ai with esbuild) in Debian's headless Chromium; used by tests/e2e/test_firebase_web.py.
//   node firebase_web.mjs CHROMIUM FAKE_WAV ARTIFACT_DIR SERVER_PORT SPKI_SHA256_BASE64
// The SDK dials wss://firebasevertexai.googleapis.com itself; Chromium's host-resolver rules send
// that name to the local server (as a hosts entry or DNS override would for a native app) and
// trust the server's certificate by its key hash. Every other name fails to resolve (so nothing
// leaves the machine); the page's requests are all recorded. The fake microphone plays FAKE_WAV.
// Prints progress on stderr and one JSON summary line on stdout; exits non-zero on failure.
import { mkdtempSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { chromium } from "playwright-core";

const FIREBASE_HOST = "firebasevertexai.googleapis.com";
const REPLY_AUDIO_S = 1.0; // reply audio that must have played to its end before stop()
const here = dirname(fileURLToPath(import.meta.url));
const [executablePath, fakeWav, artifactDir, serverPort, spkiHash] = process.argv.slice(2);
if (!spkiHash) {
  console.error("usage: node firebase_web.mjs CHROMIUM FAKE_WAV ARTIFACT_DIR SERVER_PORT SPKI");
  process.exit(2);
}
const log = (m) => console.error(`[firebase_web ${new Date().toISOString().slice(11, 23)}] ${m}`);
const summary = { requests: [], failedRequests: [], websockets: [], console: [], pageErrors: [] };

// 1. Bundle the sample as a web app would (`firebase/app`, `firebase/ai` are the @firebase
//    packages the `firebase` umbrella package re-exports).
const bundle = await esbuild.build({
  entryPoints: [join(here, "firebase_web", "sample.js")],
  bundle: true,
  format: "esm",
  target: "es2022",
  write: false,
  alias: { "firebase/app": "@firebase/app", "firebase/ai": "@firebase/ai" },
  logLevel: "warning",
});
const files = {
  "/": ["text/html", readFileSync(join(here, "firebase_web", "index.html"))],
  "/sample.bundle.js": ["text/javascript", bundle.outputFiles[0].contents],
};
const http = createServer((request, response) => {
  const file = files[new URL(request.url, "http://x").pathname];
  if (!file) return response.writeHead(404).end();
  response.writeHead(200, { "content-type": file[0] }).end(file[1]);
});
await new Promise((resolve) => http.listen(0, "127.0.0.1", resolve));
const pageUrl = `http://127.0.0.1:${http.address().port}/`;
log(`sample bundled (${bundle.outputFiles[0].contents.length} bytes), served at ${pageUrl}`);

// 2. Chromium: the Firebase host is the local server; no other name resolves.
const context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "ol-fb-")), {
  executablePath,
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    `--use-file-for-fake-audio-capture=${fakeWav}`,
    `--host-resolver-rules=MAP ${FIREBASE_HOST} 127.0.0.1:${serverPort}, MAP * ~NOTFOUND, EXCLUDE 127.0.0.1`,
    `--ignore-certificate-errors-spki-list=${spkiHash}`,
  ],
});
// Observe (never change) what the SDK does: sockets, messages, scheduled audio, contexts.
await context.addInitScript(() => {
  const probe = (window.probe = {
    wsUrls: [], sent: 0, sentAt: [], received: 0, audioMessages: 0, closes: [],
    sources: 0, sourcesEnded: 0, secondsEnded: 0, contexts: [], streams: [],
  });
  const NativeWebSocket = window.WebSocket;
  window.WebSocket = class extends NativeWebSocket {
    constructor(...args) {
      super(...args);
      probe.wsUrls.push(String(args[0]));
      this.addEventListener("close", (e) => probe.closes.push([e.code, e.reason]));
      this.addEventListener("message", async (e) => {
        probe.received += 1;
        const text = typeof e.data === "string" ? e.data : await e.data.text();
        if (text.includes('"inlineData"')) probe.audioMessages += 1;
      });
    }
    send(data) {
      probe.sent += 1;
      probe.sentAt.push(performance.now());
      super.send(data);
    }
  };
  const start = AudioBufferSourceNode.prototype.start;
  AudioBufferSourceNode.prototype.start = function (...args) {
    probe.sources += 1;
    const seconds = this.buffer ? this.buffer.duration : 0;
    this.addEventListener("ended", () => {
      probe.sourcesEnded += 1;
      probe.secondsEnded += seconds;
    });
    return start.apply(this, args);
  };
  const NativeAudioContext = window.AudioContext;
  window.AudioContext = class extends NativeAudioContext {
    constructor(...args) {
      super(...args);
      probe.contexts.push(this);
    }
  };
  const getUserMedia = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = async (constraints) => {
    const stream = await getUserMedia(constraints);
    probe.streams.push(stream);
    return stream;
  };
});
const page = context.pages()[0] ?? (await context.newPage());
page.on("console", (m) => {
  summary.console.push(`${m.type()}: ${m.text()}`);
  if (m.type() === "error" || m.type() === "warning") log(`console ${m.type()}: ${m.text()}`);
});
page.on("pageerror", (error) => {
  summary.pageErrors.push(String(error));
  log(`page error: ${error}`);
});
page.on("request", (r) => summary.requests.push(r.url()));
page.on("requestfailed", (r) => {
  summary.failedRequests.push(`${r.url()} ${r.failure()?.errorText}`);
  log(`request failed: ${r.url()} ${r.failure()?.errorText}`);
});
page.on("websocket", (ws) => summary.websockets.push(ws.url()));

const probe = () =>
  page.evaluate(() => {
    const p = window.probe;
    const { contexts, streams, sentAt, ...counts } = p;
    const span = sentAt.length > 1 ? (sentAt.at(-1) - sentAt[0]) / 1000 : 0;
    return {
      ...counts,
      sentPerSecond: span ? (sentAt.length - 1) / span : 0,
      contextRates: contexts.map((c) => c.sampleRate),
      contextStates: contexts.map((c) => c.state),
      trackStates: streams.flatMap((s) => s.getTracks().map((t) => t.readyState)),
    };
  });

let exitCode = 0;
try {
  await page.goto(pageUrl);
  log("waiting for connect() and startAudioConversation()");
  await page.waitForFunction(() => window.firebaseSample, null, { timeout: 30_000 });
  summary.started = await probe();
  log(`conversation started: ${JSON.stringify(summary.started)}`);
  log(`waiting for ${REPLY_AUDIO_S} s of reply audio played to its end`);
  try {
    await page.waitForFunction((s) => window.probe.secondsEnded >= s, REPLY_AUDIO_S, {
      timeout: 240_000,
      polling: 200,
    });
  } catch {
    throw new Error(`no reply audio played: ${JSON.stringify(await probe())}`);
  }
  summary.replied = await probe();
  await page.screenshot({ path: join(artifactDir, "replied.png") });
  // The sample's own "later" step, then the session's close.
  summary.stopResolved = await page.evaluate(async () => {
    await window.firebaseSample.audioConversationController.stop();
    return true;
  });
  await page.waitForTimeout(300);
  summary.stopped = await probe();
  await page.evaluate(() => window.firebaseSample.session.close());
  await page.waitForFunction(() => window.probe.closes.length > 0, null, { timeout: 10_000 });
  summary.closed = await probe();
} catch (error) {
  summary.error = String(error?.stack ?? error);
  log(summary.error);
  exitCode = 1;
  await page.screenshot({ path: join(artifactDir, "failure.png") }).catch(() => {});
} finally {
  await context.close();
  http.close();
}
console.log(JSON.stringify(summary));
process.exit(exitCode);
