import type { StackComponent } from "./component.ts";
import type { StackContext } from "./context.ts";
import { StackError } from "./errors.ts";

function asStackError(component: StackComponent, ctx: StackContext, error: unknown): StackError {
  if (error instanceof StackError) {
    return error.hint || error.logFile ? error : new StackError(component.name, error.message.replace(/^\[[^\]]+\] /, ""), {
      logFile: component.logFile(ctx), hint: component.fixHint, cause: error,
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new StackError(component.name, message, { logFile: component.logFile(ctx), hint: component.fixHint, cause: error });
}

/** Installs what is missing and starts what is not running, in order; reuses what is already up. */
export async function stackUp(ctx: StackContext, components: readonly StackComponent[]): Promise<void> {
  for (const component of components) {
    try {
      await component.install(ctx);
      if (await component.isHealthy(ctx)) {
        ctx.info(component.name, `already running: ${component.describe(ctx)}`);
        continue;
      }
      await ctx.step(component.name, "starting", () => component.start(ctx));
      ctx.info(component.name, `up: ${component.describe(ctx)}`);
    } catch (error) {
      throw asStackError(component, ctx, error);
    }
  }
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
