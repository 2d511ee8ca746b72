// Drives the demo page (src/openlive/web) in Debian's headless Chromium through playwright-core;
// used by tests/e2e/test_web_demo.py. The fake microphone plays FAKE_WAV (Chromium loops it).
//   node web_demo.mjs PAGE_URL CHROMIUM FAKE_WAV ARTIFACT_DIR API_KEY
// Prints progress on stderr and one JSON summary line on stdout; exits non-zero on any failure,
// after saving a screenshot of the page as it was (failure.png).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [pageUrl, executablePath, fakeWav, artifactDir, apiKey] = process.argv.slice(2);
if (!apiKey) {
  console.error("usage: node web_demo.mjs PAGE_URL CHROMIUM FAKE_WAV ARTIFACT_DIR API_KEY");
  process.exit(2);
}
const log = (message) => console.error(`[web_demo ${new Date().toISOString().slice(11, 23)}] ${message}`);

const TYPED = "Please say hello in one short sentence.";
const userDataDir = mkdtempSync(join(tmpdir(), "openlive-chromium-"));
const summary = { screenshots: {}, console: [], pageErrors: [] };

const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath,
  headless: true,
  viewport: { width: 1280, height: 860 },
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    `--use-file-for-fake-audio-capture=${fakeWav}`,
  ],
});
const page = context.pages()[0] ?? (await context.newPage());
page.on("console", (message) => {
  const line = `${message.type()}: ${message.text()}`;
  summary.console.push(line);
  if (message.type() === "error" || message.type() === "warning") log(`console ${line}`);
});
page.on("pageerror", (error) => {
  summary.pageErrors.push(String(error));
  log(`page error: ${error}`);
});

const stats = () => page.evaluate(() => ({ ...window.openliveStats }));
const texts = (selector) =>
  page.$$eval(selector, (items) => items.map((item) => item.querySelector(".text").textContent));
async function waitFor(what, predicate, arg, timeout) {
  log(`waiting for ${what}`);
  try {
    await page.waitForFunction(predicate, arg, { timeout, polling: 100 });
  } catch (error) {
    throw new Error(`timed out waiting for ${what}: ${JSON.stringify(await stats())}`);
  }
}
async function screenshot(name, options = {}) {
  const path = join(artifactDir, name);
  await page.screenshot({ path, ...options });
  summary.screenshots[name.replace(/\.png$/, "")] = path;
  log(`screenshot ${path}`);
}

// Waits until the conversation is settled: no bubble still filling, no message for `quietMs`.
async function waitQuiet(quietMs = 1000) {
  await waitFor(
    "the conversation to settle",
    (quiet) =>
      !document.querySelector("#log .live") &&
      window.openliveStats.audioQueued === 0 &&
      performance.now() - (window.openliveStats.lastMessageAt ?? 0) > quiet,
    quietMs,
    60_000,
  );
}

// Sends a typed message; resolves once the model's answer to it (the model bubble right after
// it) is complete, with no other user input in between.
async function typedTurn(text) {
  const before = await stats();
  await page.fill("#message", text);
  await page.press("#message", "Enter");
  await waitFor(
    `the reply to "${text}"`,
    ([typed, turns]) => {
      const items = [...document.querySelectorAll("#log .msg")];
      const asked = items.findLastIndex((item) => item.querySelector(".text").textContent === typed);
      const answer = items[asked + 1];
      return (
        asked >= 0 &&
        answer?.classList.contains("model") &&
        !answer.classList.contains("live") &&
        answer.querySelector(".text").textContent.trim() !== "" &&
        window.openliveStats.turns > turns
      );
    },
    [text, before.turns],
    90_000,
  );
  return before;
}

try {
  await page.goto(pageUrl);
  summary.title = await page.title();
  summary.voices = await page.$$eval("#voice option", (options) => options.map((o) => o.value));
  summary.defaultVoice = await page.inputValue("#voice");

  // 0. The server wants an API key: without one the status line shows the close code and reason.
  await page.click("#connect");
  await waitFor("the refusal", () => window.openliveStats.state === "error", null, 60_000);
  summary.refused = { status: await page.textContent("#status"), ...(await stats()) };
  await screenshot("refused.png");
  await page.fill("#api-key", apiKey);

  // 1. A spoken turn from the fake microphone. Once the question is transcribed the microphone
  //    is muted, before Chromium's loop says it again, so the reply plays to its end.
  await page.click("#connect");
  await waitFor("setupComplete", () => window.openliveStats.state === "connected", null, 60_000);
  summary.statusConnected = await page.textContent("#status");
  await waitFor(
    "the spoken question in the transcript",
    () => [...document.querySelectorAll(".msg.user .text")].some((t) => /capital|france/i.test(t.textContent)),
    null,
    90_000,
  );
  await page.click("#mute");
  summary.muteLabel = await page.textContent("#mute");
  await waitFor(
    "the spoken reply to play to its end",
    () => {
      const s = window.openliveStats;
      return s.turns >= 1 && s.audioChunksPlayed > 0 && s.audioChunksPlayed === s.audioChunksReceived;
    },
    null,
    90_000,
  );
  summary.afterVoice = await stats();
  summary.latencyText = await page.textContent("#latency");

  // The "Turn timings" panel draws the spoken turn's stages from the server's turn trace.
  // Opened, not toggled: a click that lands twice (a busy CI machine) would close it again.
  await page.click("#turn-timings summary");
  await page.$eval("#turn-timings", (panel) => {
    panel.open = true;
  });
  await waitFor(
    "the spoken turn's waterfall",
    () =>
      [...document.querySelectorAll("#waterfalls .waterfall[data-origin=speechEnd]")].some(
        (item) => item.querySelector('.stage[data-stage="voice_to_voice"]'),
      ),
    null,
    30_000,
  );
  await page.waitForFunction(() => document.querySelector("#turn-timings").open);
  summary.timings = await page.$$eval("#waterfalls .waterfall", (items) =>
    items.map((item) => ({
      turn: Number(item.dataset.turn),
      origin: item.dataset.origin,
      title: item.querySelector(".waterfall-title").textContent,
      stages: Object.fromEntries(
        [...item.querySelectorAll(".stage")].map((row) => {
          const bar = row.querySelector(".stage-bar");
          return [
            row.dataset.stage,
            {
              ms: row.querySelector(".stage-ms").textContent,
              left: parseFloat(bar.style.left),
              width: parseFloat(bar.style.width),
              visible: bar.getBoundingClientRect().width > 0,
            },
          ];
        }),
      ),
    })),
  );
  await screenshot("voice-turn.png");

  // 2. A typed turn, answered with speech.
  await waitQuiet();
  summary.beforeText = await typedTurn(TYPED);
  await waitQuiet();
  summary.afterText = await stats();

  // 3. Barge-in: while a long reply plays, the microphone comes back on and Chromium's loop
  //    asks the question again; the server interrupts and the page drops the queued audio.
  const story = "Tell me a long story about a brave little dragon.";
  await page.fill("#message", story);
  await page.press("#message", "Enter");
  await waitFor(
    "the story to start playing",
    (played) => window.openliveStats.audioChunksPlayed > played && window.openliveStats.audioQueued > 0,
    summary.afterText.audioChunksPlayed,
    90_000,
  );
  await page.click("#mute"); // unmute
  await waitFor(
    "the interruption",
    () => window.openliveStats.interruptions > 0 && document.querySelector("#log .msg.model.interrupted"),
    null,
    60_000,
  );
  summary.afterInterrupt = await stats();
  // The question that barged in is answered; muting once it is transcribed (before the loop
  // says it yet again) lets that answer play to its end.
  await waitFor(
    "the question that barged in",
    () => {
      const items = [...document.querySelectorAll("#log .msg")];
      const rest = items.slice(items.findIndex((item) => item.classList.contains("interrupted")) + 1);
      return rest.some(
        (item) => item.matches(".user:not(.live)") && /capital|france/i.test(item.textContent),
      );
    },
    null,
    60_000,
  );
  await page.click("#mute");
  await waitFor(
    "the answer to it",
    () => {
      const items = [...document.querySelectorAll("#log .msg")];
      const last = items.at(-1);
      return last.matches(".model:not(.live)") && window.openliveStats.audioQueued === 0;
    },
    null,
    60_000,
  );
  summary.userTexts = await texts("#log .msg.user");
  summary.modelTexts = await texts("#log .msg.model");
  summary.modelMeta = await page.$$eval("#log .msg.model .meta", (items) => items.map((i) => i.textContent));
  summary.final = await stats();
  await screenshot("web-demo.png");

  // The same page on a phone-sized screen, in dark mode.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.emulateMedia({ colorScheme: "dark" });
  await screenshot("web-demo-narrow-dark.png", { fullPage: true });
  await page.emulateMedia({ colorScheme: "light" });
  await page.setViewportSize({ width: 1280, height: 860 });

  await page.click("#connect"); // now "Disconnect"
  await waitFor("the disconnect", () => window.openliveStats.state === "idle", null, 10_000);
  summary.statusDisconnected = await page.textContent("#status");
  summary.disconnected = await stats();

  // 4. Text replies, no microphone.
  await page.click("label:has(input[value=TEXT])");
  await page.uncheck("#use-mic");
  summary.voiceDisabledForText = await page.isDisabled("#voice");
  await page.click("#connect");
  await waitFor("setupComplete (text)", () => window.openliveStats.state === "connected", null, 60_000);
  summary.statusText = await page.textContent("#status");
  const textBefore = await typedTurn("Name one colour.");
  summary.textMode = {
    before: textBefore,
    after: await stats(),
    reply: (await texts("#log .msg.model")).at(-1),
    meta: (await page.$$eval("#log .msg.model .meta", (items) => items.map((i) => i.textContent))).at(-1),
  };
  await screenshot("text-mode.png");
  await page.click("#connect");
  await waitFor("the disconnect (text)", () => window.openliveStats.state === "idle", null, 10_000);
  console.log(JSON.stringify(summary));
} catch (error) {
  log(String(error.stack || error));
  await screenshot("failure.png").catch(() => {});
  console.log(JSON.stringify({ ...summary, error: String(error.message || error) }));
  process.exitCode = 1;
} finally {
  await context.close();
  rmSync(userDataDir, { recursive: true, force: true });
}
