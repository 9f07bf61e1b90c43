/**
 * A small TCP proxy for fault injection between the services and a dependency (PostgreSQL, Kafka, the schema
 * registry, Jaeger's OTLP port). Services are pointed at the proxy's port; the test then:
 * - cut(): resets every open connection (RST, like a crashed server or a dropped link) and resets every new one
 *   until heal(): the dependency is unreachable;
 * - resetAll(): resets every open connection once (a server restart the clients only notice mid-conversation);
 * - setLatency(ms): delays every chunk in both directions by ms, order kept;
 * - silenceOpen(): every open connection stays open but carries nothing more, either way (a half-open link: a
 *   NAT entry dropped, a peer gone without RST); new connections work.
 * It listens on 127.0.0.1 only; port 0 (the default) picks a free port.
 */
import net from "node:net";

export interface TcpProxyOptions {
  targetHost?: string;
  targetPort: number;
  /** 0: any free port (the default). */
  listenPort?: number;
}

interface Pair {
  client: net.Socket;
  upstream: net.Socket;
  silent: boolean;
}

function destroyHard(socket: net.Socket): void {
  // resetAndDestroy sends an RST instead of a FIN: what a peer sees when the other side crashed.
  if (socket.destroyed) return;
  if (socket.readyState === "open" && typeof socket.resetAndDestroy === "function") socket.resetAndDestroy();
  else socket.destroy();
}

/** Forwards `from` to `to`, each chunk no sooner than latency ms after it arrived, in arrival order. */
function pipeWithLatency(from: net.Socket, to: net.Socket, latencyMs: () => number, silent: () => boolean): void {
  let chain: Promise<void> = Promise.resolve();
  from.on("data", (chunk: Buffer) => {
    if (silent()) return;
    const delay = latencyMs();
    if (delay === 0) {
      chain = chain.then(() => void to.write(chunk));
      return;
    }
    const dueAt = Date.now() + delay;
    from.pause(); // back-pressure: a slow link also holds the sender back
    chain = chain
      .then(() => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, dueAt - Date.now()))))
      .then(() => {
        if (!to.destroyed) to.write(chunk);
        if (!from.destroyed) from.resume();
      });
  });
  from.on("end", () => void chain.then(() => to.end()));
}

export class TcpProxy {
  private readonly pairs = new Set<Pair>();
  private down = false;
  private latencyMs = 0;
  /** Connections accepted and connections reset by a fault, over the proxy's life. */
  readonly stats = { connections: 0, resets: 0 };

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
    readonly options: TcpProxyOptions,
  ) {}

  static async start(options: TcpProxyOptions): Promise<TcpProxy> {
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.listenPort ?? 0, "127.0.0.1", () => resolve());
    });
    const proxy = new TcpProxy(server, (server.address() as net.AddressInfo).port, options);
    server.on("connection", (client) => proxy.accept(client));
    return proxy;
  }

  /** Where the proxy forwards; set once the dependency's port is known (a broker started after its proxy). */
  retarget(port: number): void {
    this.options.targetPort = port;
  }

  private accept(client: net.Socket): void {
    this.stats.connections += 1;
    client.on("error", () => undefined);
    if (this.down) {
      this.stats.resets += 1;
      destroyHard(client);
      return;
    }
    const upstream = net.connect({ host: this.options.targetHost ?? "127.0.0.1", port: this.options.targetPort });
    upstream.on("error", () => destroyHard(client));
    client.on("error", () => destroyHard(upstream));
    upstream.setNoDelay(true);
    client.setNoDelay(true);
    const pair: Pair = { client, upstream, silent: false };
    this.pairs.add(pair);
    const forget = () => {
      this.pairs.delete(pair);
      destroyHard(client);
      destroyHard(upstream);
    };
    client.on("close", forget);
    upstream.on("close", forget);
    pipeWithLatency(
      client,
      upstream,
      () => this.latencyMs,
      () => pair.silent,
    );
    pipeWithLatency(
      upstream,
      client,
      () => this.latencyMs,
      () => pair.silent,
    );
  }

  get openConnections(): number {
    return this.pairs.size;
  }

  /** Resets every open connection once; new ones are accepted as before. */
  resetAll(): number {
    const count = this.pairs.size;
    for (const { client, upstream } of [...this.pairs]) {
      destroyHard(client);
      destroyHard(upstream);
    }
    this.pairs.clear();
    this.stats.resets += count;
    return count;
  }

  /** Open connections go silent (nothing forwarded, nothing closed); new ones work. How many were silenced. */
  silenceOpen(): number {
    const open = [...this.pairs].filter((pair) => !pair.silent);
    for (const pair of open) pair.silent = true;
    return open.length;
  }

  /** The dependency becomes unreachable: open connections are reset, new ones reset on accept, until heal(). */
  cut(): void {
    this.down = true;
    this.resetAll();
  }

  heal(): void {
    this.down = false;
  }

  setLatency(ms: number): void {
    this.latencyMs = ms;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
