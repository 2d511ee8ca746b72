// Base64 and 16-bit PCM helpers shared by capture and playback.

const CHUNK = 0x8000; // String.fromCharCode.apply takes at most ~64k arguments

/** Standard base64 (with padding) of `bytes`, as the Live API expects. */
export function base64FromBytes(bytes) {
  let binary = "";
  for (let i = 0; i < bytes.length; i += CHUNK) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + CHUNK));
  }
  return btoa(binary);
}

/** Bytes of base64 text, standard or URL-safe alphabet, padded or not. */
export function bytesFromBase64(text) {
  let standard = text.replace(/-/g, "+").replace(/_/g, "/");
  standard += "=".repeat((4 - (standard.length % 4)) % 4);
  const binary = atob(standard);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Little-endian signed 16-bit PCM bytes as float samples in [-1, 1). */
export function floatsFromPcm16(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const samples = new Float32Array(bytes.byteLength >> 1);
  for (let i = 0; i < samples.length; i++) samples[i] = view.getInt16(2 * i, true) / 32768;
  return samples;
}

/** The sample rate in a MIME type such as "audio/pcm;rate=24000", or `fallback`. */
export function rateFromMime(mimeType, fallback) {
  const match = /rate=(\d+)/i.exec(mimeType || "");
  return match ? Number(match[1]) : fallback;
}
