import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance } from "fastify";

const pageDir = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "live-page");

const assets = {
  "/": { file: "index.html", type: "text/html; charset=utf-8" },
  "/live-page/live-page.js": { file: "live-page.js", type: "text/javascript; charset=utf-8" },
  "/live-page/live-page.css": { file: "live-page.css", type: "text/css; charset=utf-8" },
  "/live-page/console-charts.js": { file: "console-charts.js", type: "text/javascript; charset=utf-8" },
  "/live-page/dead-letter-browser.js": { file: "dead-letter-browser.js", type: "text/javascript; charset=utf-8" },
} as const;

/**
 * The live page: static HTML + JS (no build step). Its tables poll /monitor/lag and /monitor/recent-orders; its
 * charts follow /monitor/console/stream (server-sent events); uPlot is served by plugins/console-plugin.ts.
 */
export function registerLivePage(app: FastifyInstance): void {
  for (const [url, asset] of Object.entries(assets)) {
    const body = readFileSync(path.join(pageDir, asset.file));
    app.get(url, { schema: { hide: true } }, async (_request, reply) => reply.type(asset.type).header("cache-control", "no-cache").send(body));
  }
}
