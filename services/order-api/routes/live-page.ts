import path from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance } from "fastify";
import { filesUnder, serveStaticFiles } from "../http/static-files.ts";

const pageDir = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "live-page");

/**
 * The live page: static HTML + JS (no build step). Its tables poll /monitor/lag and /monitor/recent-orders; its
 * charts follow /monitor/console/stream (server-sent events); uPlot is served by plugins/console-plugin.ts.
 */
export function registerLivePage(app: FastifyInstance): void {
  serveStaticFiles(app, {
    "/": path.join(pageDir, "index.html"),
    ...filesUnder(pageDir, "/live-page/", ["live-page.js", "live-page.css", "console-charts.js", "dead-letter-browser.js"]),
  });
}
