import { createWriteStream, mkdirSync, type WriteStream } from "node:fs";
import path from "node:path";
import { discoverServices } from "../../run/discover-services.ts";
import { devEnvironment } from "../../run/prepare-environment.ts";
import { ServiceSupervisor } from "../../run/service-supervisor.ts";
import { fetchWithTimeout, waitUntil } from "../../stack/process.ts";

export interface BenchServicesOptions {
  repo: string;
  databaseUrl: string;
  topicPrefix: string;
  apiPort: number;
  /** Every output line of every service, prefixed with its label. */
  logFile: string;
  /** When set, each service runs under node --cpu-prof and writes its profile here on its graceful exit. */
  profileDir?: string;
  paymentLatencyMs?: number;
}

/**
 * Every service, one instance each, started by the same supervisor and with the same environment as `npm start`
 * (tracing on, the environment's log level), only pointed at the benchmark's database, topic prefix and API port.
 */
export class BenchServices {
  readonly names: string[];
  private readonly log: WriteStream;

  private constructor(
    private readonly supervisor: ServiceSupervisor,
    names: string[],
    log: WriteStream,
    readonly apiUrl: string,
  ) {
    this.names = names;
    this.log = log;
  }

  static start(options: BenchServicesOptions): BenchServices {
    mkdirSync(path.dirname(options.logFile), { recursive: true });
    const log = createWriteStream(options.logFile, { flags: "a" });
    const env: NodeJS.ProcessEnv = {
      ...devEnvironment(process.env),
      DATABASE_URL: options.databaseUrl,
      TOPIC_PREFIX: options.topicPrefix,
      API_HOST: "127.0.0.1",
      API_PORT: String(options.apiPort),
      ...(options.paymentLatencyMs !== undefined ? { PAYMENT_LATENCY_MS: String(options.paymentLatencyMs) } : {}),
    };
    const profileDir = options.profileDir;
    const supervisor = new ServiceSupervisor(options.repo, env, {
      // A child's last lines can arrive after its exit event, when the log may already be closed.
      onLine: (label, line) => void (log.writableEnded ? undefined : log.write(`[${label}] ${line}\n`)),
      // Node refuses --cpu-prof in NODE_OPTIONS: it has to be on the command line of the service's process.
      ...(profileDir !== undefined ? { nodeArgs: (service: string) => ["--cpu-prof", `--cpu-prof-dir=${path.join(profileDir, service)}`] } : {}),
    });
    const names = discoverServices(options.repo);
    supervisor.start(names.map((name) => ({ name, instances: 1 })));
    return new BenchServices(supervisor, names, log, `http://127.0.0.1:${options.apiPort}`);
  }

  /** pid of a service's (single) instance right now. */
  pid(service: string): number | undefined {
    return this.supervisor.pids().get(`${service}#1`);
  }

  async waitForApi(timeoutMs: number): Promise<void> {
    await waitUntil("order-api", "ready", async () => (await fetchWithTimeout(`${this.apiUrl}/readyz`, 2_000)).ok, { timeoutMs, intervalMs: 500 });
  }

  /** SIGTERM, bounded wait, SIGKILL: the graceful path, which is also when --cpu-prof writes the profiles. */
  async stop(graceMs: number): Promise<void> {
    await this.supervisor.stop(graceMs);
    await new Promise<void>((resolve) => this.log.end(() => resolve()));
  }
}
