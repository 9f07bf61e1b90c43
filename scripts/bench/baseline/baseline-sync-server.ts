// The synchronous chain the pipeline replaces, for `npm run bench -- baseline-sync`. Two processes:
//   downstream <port> <inventoryMs> <paymentMs> <notificationMs>  simulated inventory, payment and notification
//                                                                  services that answer after their latency;
//   api <port> <downstreamPort> <concurrency>                      POST /orders calls them one after the other
//                                                                  and answers 201 only when all three did.
// concurrency 0 runs every request at once; N > 0 lets N run and queues the rest (a worker pool).
import http from "node:http";

const [mode, portArg, ...rest] = process.argv.slice(2);
const port = Number(portArg);
const CALL_TIMEOUT_MS = 5_000;

function readBody(request: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}

function answer(response: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  response.end(text);
}

function downstream(latencies: Record<string, number>): http.Server {
  return http.createServer((request, response) => {
    void readBody(request).then(() => {
      const name = (request.url ?? "/").slice(1);
      const latency = latencies[name];
      if (name === "healthz") return answer(response, 200, { ok: true });
      if (latency === undefined) return answer(response, 404, { error: `no service ${name}` });
      setTimeout(() => answer(response, 200, { service: name, ok: true }), latency);
    });
  });
}

/** POST to the simulated service; resolves on a 2xx, rejects on anything else or after CALL_TIMEOUT_MS. */
function call(agent: http.Agent, downstreamPort: number, name: string, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        agent,
        host: "127.0.0.1",
        port: downstreamPort,
        path: `/${name}`,
        method: "POST",
        timeout: CALL_TIMEOUT_MS,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      },
      (response) => {
        response.resume();
        response.on("end", () => ((response.statusCode ?? 500) < 300 ? resolve() : reject(new Error(`${name} answered ${response.statusCode}`))));
      },
    );
    request.on("timeout", () => request.destroy(new Error(`${name} timed out after ${CALL_TIMEOUT_MS} ms`)));
    request.on("error", reject);
    request.end(body);
  });
}

/** A counting semaphore: at most `limit` holders, the rest wait in arrival order (limit 0: no limit). */
function limiter(limit: number): (work: () => Promise<void>) => Promise<void> {
  let active = 0;
  const queue: Array<() => void> = [];
  return async (work) => {
    if (limit > 0 && active >= limit) await new Promise<void>((resolve) => queue.push(resolve));
    active += 1;
    try {
      await work();
    } finally {
      active -= 1;
      queue.shift()?.();
    }
  };
}

function api(downstreamPort: number, concurrency: number): http.Server {
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  const run = limiter(concurrency);
  let orders = 0;
  return http.createServer((request, response) => {
    if (request.url === "/healthz") return answer(response, 200, { ok: true });
    void readBody(request).then((body) =>
      run(async () => {
        try {
          for (const name of ["inventory", "payment", "notification"]) await call(agent, downstreamPort, name, body);
          orders += 1;
          answer(response, 201, { orderId: `sync-${orders}`, status: "CONFIRMED" });
        } catch (error) {
          answer(response, 502, { error: error instanceof Error ? error.message : String(error) });
        }
      }),
    );
  });
}

const server =
  mode === "downstream"
    ? downstream({ inventory: Number(rest[0]), payment: Number(rest[1]), notification: Number(rest[2]) })
    : api(Number(rest[0]), Number(rest[1] ?? 0));
server.keepAliveTimeout = 30_000;
server.listen(port, "127.0.0.1", () => process.stdout.write(`listening ${port}\n`));
process.on("SIGTERM", () => {
  server.close(() => process.exit(0));
  server.closeAllConnections(); // idle keep-alive connections would hold close() open
});
