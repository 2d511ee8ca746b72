// Microphone capture (→ 16 kHz PCM16 chunks) and gapless 24 kHz playback with instant flush.

import { floatsFromPcm16, rateFromMime } from "./pcm.js";

export const INPUT_RATE = 16000;
export const OUTPUT_RATE = 24000;
const CHUNK_MS = 40;
const PLAYBACK_LEAD_S = 0.05; // cushion when playback (re)starts, against network jitter

export const MIC_CONSTRAINTS = {
  audio: {
    echoCancellation: true,
    noiseSuppression: true,
    autoGainControl: true,
    channelCount: 1,
  },
};

/**
 * The microphone through an AudioWorklet that low-passes and resamples to 16 kHz PCM16.
 * `onChunk(pcmBytes: Uint8Array, rms: number)` gets one ~40 ms chunk at a time.
 * Create it inside a user gesture: its AudioContext must be allowed to run.
 */
export class Microphone {
  constructor({ onChunk }) {
    this.onChunk = onChunk;
    this.context = new AudioContext({ latencyHint: "interactive" }); // the device's own rate
    this.stream = null;
    this.node = null;
    this.muted = false;
    this.stopped = false;
  }

  async start() {
    const stream = await navigator.mediaDevices.getUserMedia(MIC_CONSTRAINTS);
    this.stream = stream;
    if (this.stopped) return this.stop(); // stopped while the user was asked: release it now
    await this.context.audioWorklet.addModule(new URL("./mic-worklet.js", import.meta.url));
    if (this.stopped) return;
    const source = this.context.createMediaStreamSource(this.stream);
    this.node = new AudioWorkletNode(this.context, "pcm16-capture", {
      numberOfInputs: 1,
      numberOfOutputs: 0,
      channelCount: 1,
      channelCountMode: "explicit",
      channelInterpretation: "speakers",
      processorOptions: { targetRate: INPUT_RATE, chunkMs: CHUNK_MS },
    });
    this.node.port.onmessage = ({ data }) => {
      if (!this.muted) this.onChunk(new Uint8Array(data.pcm), data.rms);
    };
    source.connect(this.node);
    await this.context.resume();
  }

  get label() {
    return this.stream?.getAudioTracks()[0]?.label || "microphone";
  }

  setMuted(muted) {
    this.muted = muted;
    for (const track of this.stream?.getAudioTracks() ?? []) track.enabled = !muted;
  }

  stop() {
    this.stopped = true;
    for (const track of this.stream?.getTracks() ?? []) track.stop();
    if (this.node) this.node.port.onmessage = null;
    this.context.close().catch(() => {});
  }
}

/**
 * Plays PCM16 chunks back to back on an AudioContext running at 24 kHz. `flush()` stops
 * everything scheduled at once (barge-in). `onPlayed()` is called for each chunk that played to
 * its end. Create it inside a user gesture, like the Microphone.
 */
export class Player {
  constructor({ onPlayed }) {
    this.onPlayed = onPlayed;
    this.context = new AudioContext({ sampleRate: OUTPUT_RATE, latencyHint: "interactive" });
    this.sources = new Set();
    this.nextStart = 0;
  }

  resume() {
    return this.context.resume();
  }

  /** Schedules `bytes` (PCM16 LE mono) right after what is already queued. */
  enqueue(bytes, mimeType) {
    const samples = floatsFromPcm16(bytes);
    if (samples.length === 0) return;
    const buffer = this.context.createBuffer(1, samples.length, rateFromMime(mimeType, OUTPUT_RATE));
    buffer.copyToChannel(samples, 0);
    const source = this.context.createBufferSource();
    source.buffer = buffer;
    source.connect(this.context.destination);
    const now = this.context.currentTime;
    if (this.nextStart < now) this.nextStart = now + PLAYBACK_LEAD_S; // idle or ran dry
    source.start(this.nextStart);
    this.nextStart += buffer.duration;
    this.sources.add(source);
    source.onended = () => {
      if (this.sources.delete(source)) this.onPlayed();
    };
  }

  /** Stops all scheduled audio now; returns how many chunks were cut or dropped. */
  flush() {
    const dropped = this.sources.size;
    for (const source of this.sources) {
      source.onended = null;
      try {
        source.stop();
      } catch {
        // never started: nothing to stop
      }
      source.disconnect();
    }
    this.sources.clear();
    this.nextStart = 0;
    return dropped;
  }

  get playing() {
    return this.sources.size > 0;
  }

  close() {
    this.flush();
    this.context.close().catch(() => {});
  }
}
