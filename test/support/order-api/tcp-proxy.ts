import net from "node:net";

/**
 * A TCP proxy in front of the real PostgreSQL that a test can cut (listener closed, every connection reset) and
 * restore on the same port: an outage as the application sees it, without stopping the shared server.
 */
export class TcpProxy {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private listenPort = 0;
  private cutOnClientData: true | undefined;
  private cutFired: () => void = () => undefined;
  private trap: { marker: Buffer; forward: boolean; fired: () => void } | undefined;

  constructor(private readonly target: { host: string; port: number }) {}

  get port(): number {
    return this.listenPort;
  }

  /** Listens on 127.0.0.1 (a free port the first time, the same port after a cut). */
  async start(): Promise<number> {
    const server = net.createServer((client) => this.pipe(client));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.listenPort, "127.0.0.1", () => resolve());
    });
    this.server = server;
    this.listenPort = (server.address() as net.AddressInfo).port;
    return this.listenPort;
  }

  /** New connections are refused and open ones reset, as when the database host goes away. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.resetAndDestroy();
    this.sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /**
   * Cuts the proxy the next time the server sends a chunk containing `marker` (e.g. the CommandComplete of
   * COMMIT): with `forward` false before the client sees it (the outcome is unknown to the client although the
   * server acted), with `forward` true right after (the client saw it; every later query fails). Resolves when cut.
   */
  cutOnServerMessage(marker: string, options: { forward: boolean }): Promise<void> {
    return new Promise((resolve) => {
      this.trap = { marker: Buffer.from(marker, "utf8"), forward: options.forward, fired: resolve };
    });
  }

  async restore(): Promise<void> {
    this.trap = undefined;
    this.cutOnClientData = undefined;
    if (!this.server) await this.start();
  }

  async stop(): Promise<void> {
    await this.cut();
  }

  private pipe(client: net.Socket): void {
    const upstream = net.connect(this.target);
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on("error", () => undefined);
      socket.on("close", () => {
        this.sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.on("data", (chunk: Buffer) => {
      if (this.cutOnClientData) {
        this.cutOnClientData = undefined;
        void this.cut().then(this.cutFired);
        return;
      }
      upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => {
      const trap = this.trap;
      if (trap && chunk.includes(trap.marker)) {
        this.trap = undefined;
        if (!trap.forward) {
          void this.cut().then(trap.fired);
          return;
        }
        // Cut when the client next speaks: resetting now could discard the answer before the client reads it.
        this.cutOnClientData = true;
        this.cutFired = trap.fired;
        client.write(chunk);
        return;
      }
      client.write(chunk);
    });
  }
}
