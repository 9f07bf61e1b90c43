import { existsSync } from "node:fs";
import path from "node:path";
import type { StackComponent } from "../component.ts";
import type { StackContext } from "../context.ts";
import { StackError } from "../errors.ts";
import { installCached } from "../cached-install.ts";
import { assertPortFree, fetchWithTimeout, isPortOpen, readPid, startDaemon, stopDaemon, waitUntil } from "../process.ts";

const NAME = "jaeger";
const START_TIMEOUT_MS = 30_000;

function files(ctx: StackContext) {
  const src = path.join(ctx.paths.repo, "infra", "jaeger");
  const bin = path.join(ctx.paths.root, NAME, "bin");
  return {
    src,
    config: path.join(src, "config.yaml"),
    /** A link to the binary in the machine's cache, built from infra/jaeger (go.mod, go.sum) with this Go. */
    binary: path.join(bin, "jaeger"),
    log: path.join(ctx.paths.logs, "jaeger.log"),
  };
}

function queryUrl(ctx: StackContext): string {
  return `http://${ctx.config.host}:${ctx.config.jaegerUiPort}`;
}

/** Ports come from the stack config; infra/jaeger/config.yaml reads them as ${env:...}. */
function daemonEnv(ctx: StackContext): NodeJS.ProcessEnv {
  const c = ctx.config;
  return {
    ...process.env,
    JAEGER_BIND_HOST: c.host,
    JAEGER_UI_PORT: String(c.jaegerUiPort),
    JAEGER_GRPC_QUERY_PORT: String(c.jaegerGrpcQueryPort),
    JAEGER_OTLP_GRPC_PORT: String(c.jaegerOtlpGrpcPort),
    JAEGER_OTLP_HTTP_PORT: String(c.jaegerOtlpHttpPort),
  };
}

async function launch(ctx: StackContext, f: ReturnType<typeof files>): Promise<number> {
  const c = ctx.config;
  await assertPortFree(NAME, c.host, c.jaegerUiPort, "JAEGER_UI_PORT");
  await assertPortFree(NAME, c.host, c.jaegerGrpcQueryPort, "JAEGER_GRPC_QUERY_PORT");
  await assertPortFree(NAME, c.host, c.jaegerOtlpGrpcPort, "JAEGER_OTLP_GRPC_PORT");
  await assertPortFree(NAME, c.host, c.jaegerOtlpHttpPort, "JAEGER_OTLP_HTTP_PORT");
  return startDaemon(ctx, NAME, f.binary, ["--config", f.config], { env: daemonEnv(ctx), logFile: f.log });
}

export const jaeger: StackComponent = {
  name: NAME,
  fixHint: "are ports 16686/16685/4317/4318 taken (JAEGER_*_PORT)? see .stack/logs/jaeger.log",

  async install(ctx) {
    await installCached(ctx, NAME, files(ctx).binary, "jaeger");
  },

  async isHealthy(ctx) {
    // The query API answers before the OTLP receivers listen; healthy means both are usable.
    try {
      const response = await fetchWithTimeout(`${queryUrl(ctx)}/api/services`, 2000);
      if (response.status !== 200) return false;
      const body = (await response.json()) as { data?: unknown };
      if (!("data" in body)) return false;
    } catch {
      return false;
    }
    return isPortOpen(ctx.config.host, ctx.config.jaegerOtlpGrpcPort);
  },

  async start(ctx) {
    if (await this.isHealthy(ctx)) return;
    const f = files(ctx);
    if (!existsSync(f.binary)) throw new StackError(NAME, `not installed (${f.binary} missing)`, { hint: "run `npm run stack -- up`" });
    // A pid that is still alive means a start in progress (or a hung Jaeger): wait for it rather than start twice.
    const pid = readPid(ctx, NAME) ?? (await launch(ctx, f));
    await waitUntil(NAME, "healthy", () => this.isHealthy(ctx), {
      timeoutMs: START_TIMEOUT_MS,
      intervalMs: 200,
      logFile: f.log,
      pid,
      hint: this.fixHint,
    });
  },

  async stop(ctx) {
    await stopDaemon(ctx, NAME);
  },

  logFile(ctx) {
    return files(ctx).log;
  },

  describe(ctx) {
    const c = ctx.config;
    return `query/UI ${queryUrl(ctx)}, OTLP grpc ${c.host}:${c.jaegerOtlpGrpcPort} http ${c.host}:${c.jaegerOtlpHttpPort}`;
  },
};
