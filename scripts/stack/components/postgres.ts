import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import pg from "pg";
import type { StackComponent } from "../component.ts";
import type { StackContext } from "../context.ts";
import { StackError } from "../errors.ts";
import { assertPortFree, runCommand, waitUntil } from "../process.ts";
import { osUser, placeCluster, prepareOutsidePlace, type ClusterPlace, type OsUser } from "./postgres-location.ts";

/** Databases every stack has: the dev data, the test data (never shared with dev) and the registry's storage. */
export const STACK_DATABASES = ["orderflow", "orderflow_test", "apicurio"] as const;

const NAME = "postgres";
/** initdb and pg_ctl refuse to run as root: the cluster belongs to this unprivileged user when we are root. */
const OS_USER = "postgres";
/** sun_path is 108 bytes on Linux; a longer socket path makes the server refuse to start. */
const MAX_SOCKET_PATH = 100;

function runAsUser(): OsUser | undefined {
  return process.getuid?.() === 0 ? osUser(OS_USER) : undefined;
}

function place(ctx: StackContext): ClusterPlace {
  return placeCluster(ctx.paths.root, runAsUser());
}

function dirs(ctx: StackContext) {
  const root = place(ctx).root;
  return { root, data: path.join(root, "data"), socket: path.join(root, "run"), log: path.join(root, "postgres.log") };
}

function findBinDir(): string | undefined {
  const base = "/usr/lib/postgresql";
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base).filter((v) => existsSync(path.join(base, v, "bin", "initdb")));
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  return newest ? path.join(base, newest, "bin") : undefined;
}

function binDir(): string {
  const found = findBinDir();
  if (!found) throw new StackError(NAME, "PostgreSQL server binaries not found under /usr/lib/postgresql", { hint: "apt-get install postgresql" });
  return found;
}

async function aptInstall(ctx: StackContext): Promise<void> {
  if (process.getuid?.() !== 0) {
    throw new StackError(NAME, "PostgreSQL is not installed and we are not root", { hint: "sudo apt-get install -y postgresql" });
  }
  const logFile = path.join(ctx.paths.logs, "postgres-install.log");
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const apt = (args: string[]) => runCommand(NAME, "apt-get", args, { logFile, env, timeoutMs: 15 * 60_000 });
  await ctx.step(NAME, "apt-get install postgresql (Debian package)", async () => {
    await apt(["update"]);
    // postgresql-common first, so the package does not create and start a system cluster on our port.
    await apt(["install", "-y", "--no-install-recommends", "postgresql-common"]);
    writeFileSync("/etc/postgresql-common/createcluster.conf", "create_main_cluster = false\n", { flag: "a" });
    await apt(["install", "-y", "--no-install-recommends", "postgresql"]);
  });
}

function ownDir(dir: string, mode: number): void {
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, mode);
  const user = runAsUser();
  if (user) chownSync(dir, user.uid, user.gid);
}

async function initCluster(ctx: StackContext): Promise<void> {
  const d = dirs(ctx);
  const where = place(ctx);
  const user = runAsUser();
  if (user) prepareOutsidePlace(ctx.paths.root, where, user);
  if (!where.outsideBecause) chmodSync(ctx.paths.root, 0o755); // the postgres user must be able to reach its directory
  ownDir(d.root, 0o755);
  ownDir(d.socket, 0o755);
  const pwfile = path.join(d.root, "pwfile");
  writeFileSync(pwfile, `${ctx.config.postgresPassword}\n`, { mode: 0o600 });
  if (user) chownSync(pwfile, user.uid, user.gid);
  const what = where.outsideBecause ? `initdb (new cluster in ${d.root}, not .stack/: ${where.outsideBecause})` : `initdb (new cluster in ${d.root})`;
  await ctx.step(NAME, what, () =>
    runCommand(
      NAME,
      path.join(binDir(), "initdb"),
      ["-D", d.data, "-U", ctx.config.postgresUser, `--pwfile=${pwfile}`, "-E", "UTF8", "--locale=C.UTF-8", "--auth-local=trust", "--auth-host=scram-sha-256"],
      { logFile: path.join(ctx.paths.logs, "postgres-install.log"), timeoutMs: 120_000, asUser: runAsUser()?.name },
    ),
  );
}

function connectionConfig(ctx: StackContext, database = "postgres"): pg.ClientConfig {
  return {
    host: ctx.config.host,
    port: ctx.config.postgresPort,
    user: ctx.config.postgresUser,
    password: ctx.config.postgresPassword,
    database,
    connectionTimeoutMillis: 2000,
    query_timeout: 5000,
  };
}

async function withClient<T>(ctx: StackContext, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client(connectionConfig(ctx));
  client.on("error", () => undefined); // a dropped connection surfaces through the pending query
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function createDatabases(ctx: StackContext): Promise<void> {
  await withClient(ctx, async (client) => {
    for (const db of STACK_DATABASES) {
      const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [db]);
      if (!rowCount) {
        await client.query(`CREATE DATABASE "${db}"`);
        ctx.info(NAME, `created database ${db}`);
      }
    }
  });
}

function pgCtl(ctx: StackContext, args: string[], timeoutMs: number): Promise<void> {
  return runCommand(NAME, path.join(binDir(), "pg_ctl"), ["-D", dirs(ctx).data, ...args], {
    logFile: path.join(ctx.paths.logs, "postgres-ctl.log"),
    timeoutMs,
    asUser: runAsUser()?.name,
  });
}

/**
 * Stops the server as a crash would (`pg_ctl -m immediate`: every backend killed, no checkpoint, crash recovery on
 * the next start). Only the fault tests use it, on a cluster of their own.
 */
export async function stopImmediately(ctx: StackContext): Promise<void> {
  await pgCtl(ctx, ["-m", "immediate", "-w", "-t", "60", "stop"], 90_000);
}

export const postgres: StackComponent = {
  name: NAME,
  fixHint: "read the log; a stale .stack/postgres/data/postmaster.pid after a crash is removed by `npm run stack -- down`",
  logFile: (ctx) => dirs(ctx).log,
  describe: (ctx) => {
    const where = place(ctx);
    const data = where.outsideBecause ? `, data in ${where.root} (${where.outsideBecause})` : "";
    return `postgresql://${ctx.config.postgresUser}:***@${ctx.config.host}:${ctx.config.postgresPort}/{${STACK_DATABASES.join(",")}}${data}`;
  },

  async install(ctx) {
    if (!findBinDir()) await aptInstall(ctx);
    if (!existsSync(path.join(dirs(ctx).data, "PG_VERSION"))) await initCluster(ctx);
  },

  isHealthy: (ctx) => withClient(ctx, async (c) => (await c.query("SELECT 1 AS ok")).rows[0]?.ok === 1).catch(() => false),

  async start(ctx) {
    if (await this.isHealthy(ctx)) return createDatabases(ctx);
    await assertPortFree(NAME, ctx.config.host, ctx.config.postgresPort, "POSTGRES_PORT");
    const d = dirs(ctx);
    // Everything connects over TCP; the socket only serves psql by hand, so a too-deep clone path goes without it.
    const socketDir = `${d.socket}/.s.PGSQL.${ctx.config.postgresPort}`.length <= MAX_SOCKET_PATH ? d.socket : "''";
    const options = [
      `-c listen_addresses=${ctx.config.host}`,
      `-c port=${ctx.config.postgresPort}`,
      `-c unix_socket_directories=${socketDir}`,
      "-c max_connections=300",
      "-c shared_buffers=256MB",
    ].join(" ");
    await pgCtl(ctx, ["-l", d.log, "-o", options, "-w", "-t", "60", "start"], 90_000);
    await waitUntil(NAME, "accepting connections", () => this.isHealthy(ctx), { timeoutMs: 30_000, logFile: d.log, hint: this.fixHint });
    await createDatabases(ctx);
  },

  async stop(ctx) {
    if (!existsSync(path.join(dirs(ctx).data, "postmaster.pid"))) return;
    // fast mode: disconnects clients and checkpoints; "smart" would wait for every pooled connection to leave.
    await pgCtl(ctx, ["-m", "fast", "-w", "-t", "60", "stop"], 90_000).catch(async (error: unknown) => {
      if (await this.isHealthy(ctx)) throw error;
    });
  },
};
