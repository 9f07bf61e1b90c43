import type { StackComponent } from "./component.ts";
import type { StackContext } from "./context.ts";
import { StackError } from "./errors.ts";

function asStackError(component: StackComponent, ctx: StackContext, error: unknown): StackError {
  if (error instanceof StackError) {
    return error.hint || error.logFile
      ? error
      : new StackError(component.name, error.message.replace(/^\[[^\]]+\] /, ""), {
          logFile: component.logFile(ctx),
          hint: component.fixHint,
          cause: error,
        });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new StackError(component.name, message, { logFile: component.logFile(ctx), hint: component.fixHint, cause: error });
}

async function upOne(ctx: StackContext, component: StackComponent, dependencies: Promise<void>[]): Promise<void> {
  try {
    await component.install(ctx);
    await Promise.all(dependencies);
    if (await component.isHealthy(ctx)) {
      ctx.info(component.name, `already running: ${component.describe(ctx)}`);
      return;
    }
    await ctx.step(component.name, "starting", () => component.start(ctx));
    ctx.info(component.name, `up: ${component.describe(ctx)}`);
  } catch (error) {
    if (ctx.signal?.aborted) throw error; // stopped because another component failed: that one is the report
    throw asStackError(component, ctx, error);
  }
}

/**
 * Installs what is missing and starts what is not running; reuses what is already up. Every install starts at once
 * (the Jaeger build takes minutes on an empty Go cache, the rest seconds to a minute) and each component starts as
 * soon as the ones it depends on are up. The first failure stops the others' long installs and is the one reported.
 */
export async function stackUp(ctx: StackContext, components: readonly StackComponent[]): Promise<void> {
  const controller = new AbortController();
  const runCtx: StackContext = { ...ctx, signal: controller.signal };
  const up = new Map<string, Promise<void>>();
  for (const component of components) {
    // Dependencies not selected (`stack up registry`) are the person's call; the component's start checks them.
    const dependencies = (component.dependsOn ?? []).flatMap((name) => up.get(name) ?? []);
    const done = upOne(runCtx, component, dependencies);
    done.catch(() => controller.abort());
    up.set(component.name, done);
  }
  // Rejects with the first failure; the abort has killed the other installs' commands by then (a daemon already
  // started keeps running, and apt-get is never interrupted: a half-configured dpkg is worse than waiting).
  await Promise.all(up.values());
}

/** Stops in reverse order; data stays under .stack/. */
export async function stackDown(ctx: StackContext, components: readonly StackComponent[]): Promise<void> {
  for (const component of [...components].reverse()) {
    try {
      await ctx.step(component.name, "stopping", () => component.stop(ctx));
    } catch (error) {
      throw asStackError(component, ctx, error);
    }
  }
}

export interface ComponentStatus {
  name: string;
  healthy: boolean;
  where: string;
  logFile: string;
}

export async function stackStatus(ctx: StackContext, components: readonly StackComponent[]): Promise<ComponentStatus[]> {
  return Promise.all(
    components.map(async (c) => ({ name: c.name, healthy: await c.isHealthy(ctx).catch(() => false), where: c.describe(ctx), logFile: c.logFile(ctx) })),
  );
}
