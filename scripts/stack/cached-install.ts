import { lstatSync } from "node:fs";
import path from "node:path";
import { artefactFor, ensureArtefact, isComplete, linkTo } from "./artefact-cache.mjs";
import type { StackContext } from "./context.ts";
import { asStepError, readPid } from "./process.ts";

function isRealFolderOrFile(file: string): boolean {
  try {
    return !lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}

/**
 * Installs a component from the per-machine cache (~/.cache/orderflow): builds or downloads the entry when it is
 * missing (or waits for the process already doing so, e.g. the one bootstrap started beside npm ci), then links
 * `link` in .stack/ to `inEntry` inside it.
 */
export async function installCached(ctx: StackContext, component: string, link: string, inEntry = ""): Promise<void> {
  try {
    const artefact = artefactFor(component, ctx.paths.repo);
    // An older layout installed into .stack/ itself: a process running from there keeps it until its next start.
    if (isRealFolderOrFile(link) && readPid(ctx, component) !== undefined) return;
    if (!isComplete(artefact)) {
      const onWait = (pid: number) => ctx.info(component, `already under way in process ${pid}; waiting for it (log ${artefact.logFile})`);
      await ctx.step(component, artefact.what, () => ensureArtefact(artefact, { signal: ctx.signal, onWait }));
    }
    if (linkTo(link, path.join(artefact.dir, inEntry))) ctx.info(component, `installed from the machine's cache ${artefact.dir}`);
  } catch (error) {
    throw asStepError(component, error);
  }
}
