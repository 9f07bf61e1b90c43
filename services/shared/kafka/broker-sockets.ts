/**
 * The TCP sockets one kafkajs client opened, by broker, so a connection whose request timed out can be taken down.
 *
 * kafkajs keeps a connection after a request on it timed out (tulios/kafkajs#42): on a link that went silent (a
 * half-open connection after resets, a NAT entry dropped, a peer gone without RST) every later request on it times
 * out as well, and its consumer restarts on the same dead socket for as long as TCP keepalive takes to notice,
 * minutes. The Java client and librdkafka disconnect on a request timeout; so does this: destroying the socket with
 * an error makes kafkajs reject what was in flight and open a new connection for the next request.
 */
import net from "node:net";
import tls from "node:tls";
import type { ISocketFactory } from "kafkajs";
import { DependencyUnavailableError } from "../errors/dependency-errors.ts";

/** As kafkajs' own factory: TCP keepalive still catches a dead link nothing is asking on. */
const KEEP_ALIVE_DELAY_MS = 60_000;

export class BrokerSockets {
  private readonly byBroker = new Map<string, Set<net.Socket>>();

  /** kafkajs' socketFactory: the same sockets kafkajs makes, remembered until they close. */
  readonly factory: ISocketFactory = ({ host, port, ssl, onConnect }) => {
    const socket = ssl
      ? tls.connect({ host, port, ...(net.isIP(host) ? {} : { servername: host }), ...ssl }, onConnect)
      : net.connect({ host, port }, onConnect);
    socket.setKeepAlive(true, KEEP_ALIVE_DELAY_MS);
    const key = `${host}:${port}`;
    const open = this.byBroker.get(key) ?? new Set<net.Socket>();
    this.byBroker.set(key, open);
    open.add(socket);
    socket.once("close", () => {
      open.delete(socket);
      if (open.size === 0 && this.byBroker.get(key) === open) this.byBroker.delete(key);
    });
    return socket;
  };

  /** Destroys every open socket to `broker` with an error (kafkajs then reconnects); how many there were. */
  reset(broker: string, reason: string): number {
    const open = [...(this.byBroker.get(broker) ?? [])];
    for (const socket of open) socket.destroy(new DependencyUnavailableError("kafka", reason, { code: "KAFKA_REQUEST_TIMEOUT" }));
    return open.length;
  }
}
