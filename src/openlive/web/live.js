// The Live protocol over a browser WebSocket (docs/protocol.md §3, §6.1): JSON in text frames out,
// JSON in text or binary frames in, and a promise that settles on setupComplete or close.

const LIVE_PATH = "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent";

/** The Developer API endpoint on the server that served this page. */
export function liveUrl(location, apiKey) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const url = new URL(`${scheme}//${location.host}${LIVE_PATH}`);
  if (apiKey) url.searchParams.set("key", apiKey);
  return url.toString();
}

export class LiveClosed extends Error {
  constructor(code, reason) {
    super(reason ? `${code}: ${reason}` : `code ${code}`);
    this.code = code;
    this.reason = reason;
  }
}

export class LiveSocket {
  /** `onMessage(msg)` gets every server message; `onClose(code, reason)` the close, once. */
  constructor(url, { onMessage, onClose }) {
    this.url = url;
    this.onMessage = onMessage;
    this.onClose = onClose;
    this.socket = null;
    this.ready = false;
    this.decoder = new TextDecoder();
  }

  /** Opens the socket, sends `setup` first and resolves with setupComplete. */
  connect(setup) {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(this.url);
      socket.binaryType = "arraybuffer";
      this.socket = socket;
      socket.onopen = () => socket.send(JSON.stringify({ setup }));
      socket.onmessage = (event) => {
        let message;
        try {
          const text =
            typeof event.data === "string" ? event.data : this.decoder.decode(event.data);
          message = JSON.parse(text);
        } catch (error) {
          console.error("undecodable server frame", error);
          return;
        }
        if (!this.ready && message.setupComplete) {
          this.ready = true;
          resolve(message.setupComplete);
        }
        this.onMessage(message);
      };
      socket.onclose = (event) => {
        const wasReady = this.ready;
        this.ready = false;
        if (!wasReady) reject(new LiveClosed(event.code, event.reason));
        this.onClose(event.code, event.reason, wasReady);
      };
    });
  }

  get open() {
    return this.ready && this.socket?.readyState === WebSocket.OPEN;
  }

  send(message) {
    if (!this.open) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  close(code = 1000, reason = "") {
    if (this.socket && this.socket.readyState <= WebSocket.OPEN) this.socket.close(code, reason);
  }
}
