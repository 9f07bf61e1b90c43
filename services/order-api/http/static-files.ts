import { readFileSync } from "node:fs";
import path from "node:path";
import type { FastifyInstance } from "fastify";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
};

/**
 * Serves files read once at registration (the pages are small and never change while the API runs; no build step),
 * under `url -> absolute file`, typed by extension and left out of the OpenAPI document.
 */
export function serveStaticFiles(app: FastifyInstance, files: Readonly<Record<string, string>>, cacheControl = "no-cache"): void {
  for (const [url, file] of Object.entries(files)) {
    const body = readFileSync(file);
    const type = TYPES[path.extname(file)];
    if (type === undefined) throw new Error(`no content type for ${file}`);
    app.get(url, { schema: { hide: true } }, async (_request, reply) => reply.type(type).header("cache-control", cacheControl).send(body));
  }
}

/** `url -> file` for files of one folder served under one URL prefix. */
export function filesUnder(dir: string, urlPrefix: string, names: readonly string[]): Record<string, string> {
  return Object.fromEntries(names.map((name) => [`${urlPrefix}${name}`, path.join(dir, name)]));
}
