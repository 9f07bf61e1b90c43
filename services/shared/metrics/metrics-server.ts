import { withTimeout } from "../resilience/with-timeout.ts";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { PROMETHEUS_CONTENT_TYPE, type Registry } from "./metrics-registry.ts";

export interface MetricsServer {
  /** The bound port (the real one when 0 was asked for). */
  port: number;
  url: string;
  close(): Promise<void>;
}

/** Thrown when the metrics port cannot be bound (taken, or not allowed). */
export class MetricsServerError extends Error {
  constructor(
    readonly host: string,
    readonly port: number,
    cause: unknown,
  ) {
    super(`cannot serve /metrics on ${host}:${port}: ${cause instanceof Error ? cause.message : String(cause)} (set METRICS_PORT to a free port, or 0)`, {
      cause,
    });
    this.name = "MetricsServerError";
  }
}

/** Scrapes must never hang a Prometheus worker: a stuck collector answers 503 after this. */
const COLLECT_TIMEOUT_MS = 5_000;

function render(registry: Registry): Promise<string> {
  return withTimeout(registry.metrics(), COLLECT_TIMEOUT_MS, () => new Error(`collecting metrics took over ${COLLECT_TIMEOUT_MS} ms`));
}

/**
 * GET /metrics (and /livez) on its own port, for the processes that have no HTTP server (relay, consumers).
 * Port 0 binds a free port: N instances on one host never collide; the caller logs the URL.
 */
export async function startMetricsServer(registry: Registry, host: string, port: number): Promise<MetricsServer> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0];
    if (request.method === "GET" && path === "/metrics") {
      render(registry).then(
        (text) => response.writeHead(200, { "content-type": PROMETHEUS_CONTENT_TYPE }).end(text),
        (error: unknown) => response.writeHead(503, { "content-type": "text/plain" }).end(String(error)),
      );
      return;
    }
    if (request.method === "GET" && path === "/livez")
      return void response.writeHead(200, { "content-type": "application/health+json" }).end('{"status":"pass"}');
    response.writeHead(404, { "content-type": "text/plain" }).end("not found: try GET /metrics\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error) => reject(new MetricsServerError(host, port, error)));
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    port: bound,
    url: `http://${host}:${bound}/metrics`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Renders for a Fastify route (the API serves /metrics on its own port). */
export { render as renderMetrics };
