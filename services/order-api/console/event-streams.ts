/**
 * Server-sent event streams (text/event-stream) of the console: a bounded number open at once, a comment line as
 * heartbeat so proxies keep them open, a slow reader dropped rather than buffered without bound, all ended on close.
 */
import type { ServerResponse } from "node:http";

export interface EventStreamOptions {
  maxStreams: number;
  heartbeatMs?: number;
  /** A stream whose unsent bytes exceed this is closed: the browser reconnects and gets the history again. */
  maxBufferedBytes?: number;
}

const DEFAULT_HEARTBEAT_MS = 15_000;
const DEFAULT_MAX_BUFFERED_BYTES = 1_000_000;
/** The browser's EventSource-style reconnect delay, sent once per stream. */
const RETRY_MS = 3_000;

/** One SSE frame: `event:` + one `data:` line per line of the JSON (it has none: JSON.stringify escapes them). */
export function sseFrame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

export class EventStreams {
  private readonly open = new Set<ServerResponse>();
  private readonly heartbeat: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly options: EventStreamOptions) {
    this.heartbeat = setInterval(() => this.broadcastRaw(": heartbeat\n\n"), options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  get size(): number {
    return this.open.size;
  }

  /** False when the limit is reached or closing: the caller answers 503 instead. */
  hasRoom(): boolean {
    return !this.closed && this.open.size < this.options.maxStreams;
  }

  /** Starts the stream on a response nobody else writes to (a hijacked Fastify reply); `onEnd` runs once it ends. */
  add(response: ServerResponse, onEnd: () => void): void {
    response.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    });
    response.write(`retry: ${RETRY_MS}\n\n`);
    this.open.add(response);
    response.on("close", () => {
      this.open.delete(response);
      onEnd();
    });
  }

  send(response: ServerResponse, event: string, data: unknown): void {
    this.write(response, sseFrame(event, data));
  }

  broadcast(event: string, data: unknown): void {
    this.broadcastRaw(sseFrame(event, data));
  }

  /** Ends every stream and refuses new ones (the app is shutting down). */
  closeAll(): void {
    this.closed = true;
    clearInterval(this.heartbeat);
    for (const response of this.open) response.end();
    this.open.clear();
  }

  private broadcastRaw(frame: string): void {
    for (const response of this.open) this.write(response, frame);
  }

  private write(response: ServerResponse, frame: string): void {
    if (response.writableLength > (this.options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES)) {
      response.destroy();
      return;
    }
    response.write(frame);
  }
}
