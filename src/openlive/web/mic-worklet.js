// AudioWorklet: microphone audio at the context's rate → 16 kHz mono PCM16, ~40 ms per message.
//
// Downsampling is a windowed-sinc low-pass (cut-off at 0.45 × the output rate, so nothing above
// 7.2 kHz folds back into the speech band), evaluated only where output samples fall, with linear
// interpolation between the two filtered neighbours when a position is fractional (44.1 kHz).
// Each message carries the chunk's PCM bytes (transferred) and its RMS level, for the page's VAD.

const CUTOFF = 0.45; // of the output sample rate
const TAPS_PER_RATIO = 16; // filter half-length per unit of decimation ratio: ~97 taps at 48 kHz

function blackmanSinc(ratio) {
  const half = Math.max(8, Math.ceil(TAPS_PER_RATIO * ratio));
  const cutoff = CUTOFF / ratio; // cycles per input sample
  const taps = new Float32Array(2 * half + 1);
  let sum = 0;
  for (let k = -half; k <= half; k++) {
    const sinc = k === 0 ? 2 * cutoff : Math.sin(2 * Math.PI * cutoff * k) / (Math.PI * k);
    const phase = (Math.PI * (k + half)) / half; // 0 … 2π over the window
    const window = 0.42 - 0.5 * Math.cos(phase) + 0.08 * Math.cos(2 * phase);
    taps[k + half] = sinc * window;
    sum += taps[k + half];
  }
  for (let i = 0; i < taps.length; i++) taps[i] /= sum; // unity gain at DC
  return { taps, half };
}

class Pcm16Capture extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const { targetRate = 16000, chunkMs = 40 } = options.processorOptions || {};
    this.ratio = sampleRate / targetRate; // input samples per output sample
    const filter =
      this.ratio > 1 ? blackmanSinc(this.ratio) : { taps: Float32Array.of(1), half: 0 };
    this.taps = filter.taps;
    this.half = filter.half;
    // Input history; it starts with `half` zeros so the first output sample is centred on the
    // first input sample.
    this.buffer = new Float32Array(4096 + 2 * this.half);
    this.length = this.half;
    this.position = this.half; // where the next output sample falls, in buffer samples
    this.chunkSamples = Math.round((targetRate * chunkMs) / 1000);
    this.newChunk();
  }

  newChunk() {
    this.chunk = new Int16Array(this.chunkSamples);
    this.filled = 0;
    this.energy = 0;
  }

  filtered(center) {
    const { taps, buffer } = this;
    let acc = 0;
    for (let i = 0, j = center - this.half; i < taps.length; i++, j++) acc += taps[i] * buffer[j];
    return acc;
  }

  append(samples) {
    if (this.length + samples.length > this.buffer.length) {
      const grown = new Float32Array(2 * (this.length + samples.length));
      grown.set(this.buffer.subarray(0, this.length));
      this.buffer = grown;
    }
    this.buffer.set(samples, this.length);
    this.length += samples.length;
  }

  emit(value) {
    const clipped = Math.max(-1, Math.min(1, value));
    this.energy += clipped * clipped;
    this.chunk[this.filled++] = Math.round(clipped < 0 ? clipped * 0x8000 : clipped * 0x7fff);
    if (this.filled === this.chunk.length) {
      const rms = Math.sqrt(this.energy / this.chunk.length);
      this.port.postMessage({ pcm: this.chunk.buffer, rms }, [this.chunk.buffer]);
      this.newChunk();
    }
  }

  process(inputs) {
    const channels = inputs[0];
    if (!channels || channels.length === 0) return true; // no input connected yet
    this.append(channels[0]); // the node is mono: channelCount 1, mode "explicit"

    // Emit every output sample whose filter window (and its right neighbour's) is complete.
    while (Math.floor(this.position) + 1 + this.half < this.length) {
      const index = Math.floor(this.position);
      const fraction = this.position - index;
      let value = this.filtered(index);
      if (fraction > 1e-9) value += fraction * (this.filtered(index + 1) - value);
      this.emit(value);
      this.position += this.ratio;
    }

    // Drop input that no future output needs, keeping the left half of the window.
    const keepFrom = Math.floor(this.position) - this.half;
    if (keepFrom > 0) {
      this.buffer.copyWithin(0, keepFrom, this.length);
      this.length -= keepFrom;
      this.position -= keepFrom;
    }
    return true;
  }
}

registerProcessor("pcm16-capture", Pcm16Capture);
