// Runs the demo page's capture worklet (src/openlive/web/mic-worklet.js) outside a browser, with
// the AudioWorklet globals stubbed, and measures what it does to pure tones; used by
// tests/e2e/test_web_demo.py.   node mic_worklet_check.mjs WORKLET_PATH INPUT_RATE
// Prints {"chunkSamples", "outputSamples", "inputSamples", "gainsDb": {"<Hz>": dB}}.
import { readFileSync } from "node:fs";
import vm from "node:vm";

const [workletPath, inputRate] = process.argv.slice(2);
const source = readFileSync(workletPath, "utf8");

function run(frequency) {
  const messages = [];
  let Processor = null;
  const context = {
    sampleRate: Number(inputRate),
    AudioWorkletProcessor: class {
      constructor() {
        this.port = { postMessage: (message) => messages.push(message) };
      }
    },
    registerProcessor: (name, cls) => (Processor = cls),
    Math,
    Float32Array,
    Int16Array,
  };
  vm.runInNewContext(source, context);
  const processor = new Processor({ processorOptions: { targetRate: 16000, chunkMs: 40 } });
  const seconds = 2;
  const total = Math.round(Number(inputRate) * seconds);
  for (let start = 0; start < total; start += 128) {
    const block = new Float32Array(Math.min(128, total - start));
    for (let i = 0; i < block.length; i++) {
      block[i] = 0.5 * Math.sin((2 * Math.PI * frequency * (start + i)) / Number(inputRate));
    }
    processor.process([[block]]);
  }
  const samples = messages.flatMap((message) => Array.from(new Int16Array(message.pcm)));
  const steady = samples.slice(1600, -1600).map((v) => v / 32768); // skip the filter's edges
  const rms = Math.sqrt(steady.reduce((sum, v) => sum + v * v, 0) / steady.length);
  const gainDb = Math.max(-120, 20 * Math.log10(rms / (0.5 / Math.SQRT2))); // 0 → -120: below 1 LSB
  return { messages, samples, total, gainDb };
}

const gainsDb = {};
let first = null;
for (const frequency of [300, 1000, 3000, 6000, 9000, 12000, 20000]) {
  if (frequency >= Number(inputRate) / 2) continue;
  const result = run(frequency);
  first ??= result;
  gainsDb[frequency] = Math.round(result.gainDb * 100) / 100;
}
console.log(
  JSON.stringify({
    chunkSamples: [...new Set(first.messages.map((m) => new Int16Array(m.pcm).length))],
    outputSamples: first.samples.length,
    inputSamples: first.total,
    gainsDb,
  }),
);
