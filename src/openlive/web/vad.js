// A small energy VAD on the microphone chunks, used only to time the end of the user's speech
// for the latency readout (the server does its own, better, voice activity detection).

export class EnergyVad {
  constructor({ minLevel = 0.012, floorFactor = 3.5, startMs = 80, hangoverMs = 400 } = {}) {
    this.minLevel = minLevel; // RMS below this is never speech (digital near-silence)
    this.floorFactor = floorFactor; // … nor anything within this factor of the noise floor
    this.startMs = startMs;
    this.hangoverMs = hangoverMs;
    this.noiseFloor = minLevel / floorFactor;
    this.speaking = false;
    this.loudMs = 0;
    this.lastLoudAt = null; // when the last loud chunk arrived (performance.now())
    this.speechEndAt = null; // the end of the latest utterance, once known
  }

  get threshold() {
    return Math.max(this.minLevel, this.noiseFloor * this.floorFactor);
  }

  /** Feeds one chunk; returns "start", "end" or null. */
  update(rms, durationMs, now = performance.now()) {
    const loud = rms > this.threshold;
    if (!loud) this.noiseFloor += (rms - this.noiseFloor) * (rms < this.noiseFloor ? 0.5 : 0.02);
    if (loud) {
      this.loudMs += durationMs;
      this.lastLoudAt = now;
      if (!this.speaking && this.loudMs >= this.startMs) {
        this.speaking = true;
        return "start";
      }
      return null;
    }
    if (!this.speaking) {
      this.loudMs = 0;
      return null;
    }
    if (now - this.lastLoudAt >= this.hangoverMs) {
      this.speaking = false;
      this.loudMs = 0;
      this.speechEndAt = this.lastLoudAt;
      return "end";
    }
    return null;
  }

  /** The end of the user's latest finished speech, as far as known at `now`. Within the hangover
   * the last loud chunk counts as the end; while the user is audibly talking, the utterance
   * before this one is the latest finished. */
  latestSpeechEnd(now = performance.now(), talkingMs = 120) {
    if (!this.speaking) return this.speechEndAt;
    return now - this.lastLoudAt < talkingMs ? this.speechEndAt : this.lastLoudAt;
  }
}
