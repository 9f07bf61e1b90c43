import net from "node:net";
import type { PrismaClient } from "../../shared/db/index.ts";

/**
 * One readiness check. `required` checks fail readiness; the others only warn: the accept path needs the
 * database alone, so a Kafka or registry outage must not take the API out of the load balancer.
 */
export interface DependencyCheck {
  /** "component:measurement" as in draft-inadarei-api-health-check, e.g. "database:responseTime". */
  name: string;
  componentType: "datastore" | "component" | "system";
  required: boolean;
  /** Resolves when healthy, rejects with the reason otherwise; must honour the signal. */
  probe(signal: AbortSignal): Promise<void>;
}

export class CheckTimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
    this.name = "CheckTimeoutError";
  }
}

export function databaseCheck(prisma: PrismaClient): DependencyCheck {
  return {
    name: "database:responseTime",
    componentType: "datastore",
    required: true,
    probe: async () => {
      await prisma.$queryRaw`SELECT 1`;
    },
  };
}

/** host:port list -> first reachable wins; a TCP connect is all the accept path would ever need from Kafka. */
export function kafkaCheck(brokers: string): DependencyCheck {
  const targets = brokers
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean);
  return {
    name: "kafka:connectivity",
    componentType: "component",
    required: false,
    probe: (signal) => Promise.any(targets.map((target) => tcpConnect(target, signal))).then(() => undefined),
  };
}

export function schemaRegistryCheck(registryUrl: string): DependencyCheck {
  return {
    name: "schema-registry:connectivity",
    componentType: "component",
    required: false,
    probe: async (signal) => {
      const response = await fetch(`${registryUrl.replace(/\/$/, "")}/subjects`, { signal });
      await response.body?.cancel();
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
    },
  };
}

function tcpConnect(target: string, signal: AbortSignal): Promise<void> {
  const separator = target.lastIndexOf(":");
  const host = target.slice(0, separator);
  const port = Number(target.slice(separator + 1));
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, signal });
    socket.once("connect", () => {
      socket.destroy();
      resolve();
    });
    socket.once("error", (error) => {
      socket.destroy();
      reject(error);
    });
  });
}
