import { existsSync } from "node:fs";
import path from "node:path";
import type { StackContext } from "../stack/context.ts";
import { StackError } from "../stack/errors.ts";
import { runCommand } from "../stack/process.ts";

/** Where Debian installs it; the live-page e2e test drives it through playwright-core. */
export const CHROMIUM_PATH = "/usr/bin/chromium";
const INSTALL_TIMEOUT_MS = 15 * 60_000;

/**
 * Installs Debian's chromium for the live-page browser test when it is missing (playwright's own browser download
 * host is not reachable here; apt is). Refreshes the package lists once if the first attempt fails.
 */
export async function ensureChromium(ctx: StackContext): Promise<void> {
  if (existsSync(CHROMIUM_PATH)) return;
  if (process.getuid?.() !== 0) {
    throw new StackError("chromium", `${CHROMIUM_PATH} is missing (the live-page e2e test drives it) and only root can install it`, {
      hint: "sudo apt-get install -y --no-install-recommends chromium",
    });
  }
  const logFile = path.join(ctx.paths.logs, "chromium-install.log");
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const install = (): Promise<void> =>
    runCommand("chromium", "apt-get", ["install", "-y", "--no-install-recommends", "chromium"], { logFile, timeoutMs: INSTALL_TIMEOUT_MS, env });
  await ctx.step("chromium", "installing Debian's chromium for the live-page test (apt-get)", async () => {
    try {
      await install();
    } catch {
      await runCommand("chromium", "apt-get", ["update"], { logFile, timeoutMs: INSTALL_TIMEOUT_MS, env });
      await install();
    }
  });
}
