// How the explorer talks to the API, and nothing else: queries by POST /graphql, live events
// over one websocket at /graphql speaking graphql-transport-ws (the graphql-ws library's
// protocol), written out here so the page needs no package.

const ENDPOINT = "/graphql";

/** Runs a query; resolves to its `data`, rejects with the server's error messages. */
export async function query(document, variables = {}) {
  const res = await fetch(ENDPOINT, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query: document, variables }),
  });
  const body = await res.json().catch(() => ({ errors: [{ message: `HTTP ${res.status}` }] }));
  if (body.errors && body.errors.length) {
    throw new Error(body.errors.map((e) => e.message).join("; "));
  }
  return body.data;
}

/**
 * One socket shared by every subscription of the page. It reconnects with backoff and
 * re-subscribes what is still wanted; `onStatus` hears "connecting", "live" or "offline: why".
 */
export class Live {
  constructor(onStatus = () => {}) {
    this.onStatus = onStatus;
    this.subs = new Map(); // id -> { payload, next }
    this.nextId = 1;
    this.socket = null;
    this.acked = false;
    this.retry = 500;
    this.connect();
  }

  url() {
    const u = new URL(ENDPOINT, window.location.href);
    u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
    return u.toString();
  }

  connect() {
    this.onStatus("connecting");
    const socket = new WebSocket(this.url(), "graphql-transport-ws");
    this.socket = socket;
    this.acked = false;
    socket.onopen = () => this.send({ type: "connection_init", payload: {} });
    socket.onmessage = (e) => this.receive(JSON.parse(e.data));
    socket.onclose = (e) => {
      if (this.socket !== socket) return;
      this.acked = false;
      this.onStatus(`offline: ${e.reason || "connection closed"} (code ${e.code}), retrying`);
      // Backoff up to 10 s; a socket that reached "live" resets it.
      setTimeout(() => this.connect(), this.retry);
      this.retry = Math.min(this.retry * 2, 10000);
    };
  }

  send(message) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify(message));
    }
  }

  receive(m) {
    switch (m.type) {
      case "connection_ack":
        this.acked = true;
        this.retry = 500;
        this.onStatus("live");
        for (const [id, sub] of this.subs) this.send({ id, type: "subscribe", payload: sub.payload });
        break;
      case "ping":
        this.send({ type: "pong" });
        break;
      case "next": {
        const sub = this.subs.get(m.id);
        if (!sub) break;
        if (m.payload.errors) {
          this.onStatus(`live, but: ${m.payload.errors.map((e) => e.message).join("; ")}`);
        } else {
          sub.next(m.payload.data);
        }
        break;
      }
      case "error":
        // The server refused this subscription (e.g. SUBSCRIPTION_LIMIT): say so, keep the rest.
        this.onStatus(`live, but: ${(m.payload || []).map((e) => e.message).join("; ")}`);
        this.subs.delete(m.id);
        break;
      case "complete":
        this.subs.delete(m.id);
        break;
      default:
        break;
    }
  }

  /** Subscribes; `next` gets each event's `data`. Returns the function that unsubscribes. */
  subscribe(document, variables, next) {
    const id = String(this.nextId++);
    const payload = { query: document, variables };
    this.subs.set(id, { payload, next });
    if (this.acked) this.send({ id, type: "subscribe", payload });
    return () => {
      if (this.subs.delete(id) && this.acked) this.send({ id, type: "complete" });
    };
  }
}
