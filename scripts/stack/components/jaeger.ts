import { createHash } from "node:crypto";
import { accessSync, constants, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { StackComponent } from "../component.ts";
import type { StackContext } from "../context.ts";
import { StackError } from "../errors.ts";
import { assertPortFree, fetchWithTimeout, isPortOpen, readPid, runCommand, startDaemon, stopDaemon, waitUntil } from "../process.ts";

const NAME = "jaeger";
/** Jaeger v2 is the cmd/jaeger package of the v1.x Go module (its v2 tags are not served as a module). */
const PACKAGE = "github.com/jaegertracing/jaeger/cmd/jaeger";
const BUILD_TIMEOUT_MS = 30 * 60_000;
const START_TIMEOUT_MS = 30_000;

function files(ctx: StackContext) {
  const src = path.join(ctx.paths.repo, "infra", "jaeger");
  const bin = path.join(ctx.paths.root, NAME, "bin");
  return {
    src,
    config: path.join(src, "config.yaml"),
    binary: path.join(bin, "jaeger"),
    marker: path.join(bin, "jaeger.build-hash"),
    log: path.join(ctx.paths.logs, "jaeger.log"),
    buildLog: path.join(ctx.paths.logs, "jaeger-build.log"),
  };
}

/** The build's inputs: a different go.mod/go.sum means a different Jaeger, so the binary is rebuilt. */
function sourceHash(src: string): string {
  const hash = createHash("sha256");
  for (const file of ["go.mod", "go.sum", "tools.go"]) hash.update(readFileSync(path.join(src, file)));
  return hash.digest("hex");
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `go` on PATH, else the tarball's default location (non-login shells often miss /usr/local/go/bin). */
function findGo(): string {
  const dirs = [...(process.env.PATH ?? "").split(path.delimiter).filter(Boolean), "/usr/local/go/bin"];
  const found = dirs.map((dir) => path.join(dir, "go")).find(isExecutable);
  if (found) return found;
  throw new StackError(NAME, "the Go toolchain (`go`) is needed to build Jaeger v2 and was not found on PATH", {
    hint: "install Go >= 1.26 (https://go.dev/dl/, e.g. into /usr/local/go) and put its bin/ on PATH",
  });
}

async function build(ctx: StackContext, f: ReturnType<typeof files>): Promise<void> {
  const go = findGo();
  mkdirSync(path.dirname(f.binary), { recursive: true });
  const partial = `${f.binary}.partial`;
  // -mod=readonly: the committed go.mod/go.sum pin every module; a build must never rewrite them.
  const env = { ...process.env, CGO_ENABLED: "0", GOFLAGS: "-mod=readonly -buildvcs=false" };
  await ctx.step(NAME, "go build Jaeger v2 (first build downloads modules: minutes)", () =>
    runCommand(NAME, go, ["build", "-trimpath", "-o", partial, PACKAGE], {
      cwd: f.src,
      env,
      logFile: f.buildLog,
      timeoutMs: BUILD_TIMEOUT_MS,
    }),
  );
  // Renamed only when complete, so an interrupted build never looks installed.
  renameSync(partial, f.binary);
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
    const f = files(ctx);
    const hash = sourceHash(f.src);
    if (existsSync(f.binary) && existsSync(f.marker) && readFileSync(f.marker, "utf8").trim() === hash) return;
    rmSync(f.marker, { force: true });
    await build(ctx, f);
    writeFileSync(f.marker, `${hash}\n`);
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
