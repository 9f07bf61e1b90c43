// `npm run outbox -- list [--limit n]`: outbox rows the relay gave up on, with their error and what they hold back.
// `npm run outbox -- retry (--id <id> | --all)`: clears failed_at/attempts so the relay tries them again.
import { parseArgs } from "node:util";
import pg from "pg";
import { CodedError } from "../services/shared/errors/coded-error.ts";
import { loadConfig } from "../services/shared/config/load-config.ts";
import { describeFailedRow, listFailedRows, OutboxCommandError, retryFailedRows } from "./outbox/failed-rows.ts";

const USAGE = "usage: npm run outbox -- list [--limit <n>] | retry (--id <outbox id> | --all)";

async function run(command: string | undefined, values: { id?: string; all?: boolean; limit?: string }, db: pg.Client): Promise<void> {
  if (command === "list") {
    const limit = Number(values.limit ?? 100);
    if (!Number.isInteger(limit) || limit < 1) throw new OutboxCommandError({ detail: `--limit must be a positive integer\n${USAGE}` });
    const rows = await listFailedRows(db, limit);
    console.log(`${rows.length} failed outbox row(s)${rows.length === limit ? ` (first ${limit})` : ""}`);
    for (const row of rows) console.log(describeFailedRow(row));
    return;
  }
  if (command === "retry" && (values.id !== undefined) !== (values.all === true)) {
    const reset = await retryFailedRows(db, values.id !== undefined ? { id: values.id } : { all: true });
    console.log(`${reset} failed outbox row(s) handed back to the relay`);
    return;
  }
  throw new OutboxCommandError({ detail: USAGE });
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { id: { type: "string" }, all: { type: "boolean", default: false }, limit: { type: "string" } },
  });
  const config = loadConfig();
  const db = new pg.Client({
    connectionString: config.DATABASE_URL,
    connectionTimeoutMillis: config.DATABASE_CONNECT_TIMEOUT_MS,
    statement_timeout: config.DATABASE_STATEMENT_TIMEOUT_MS,
    application_name: "outbox-command",
  });
  try {
    await db.connect();
  } catch (error) {
    throw new Error(
      `cannot reach PostgreSQL at DATABASE_URL (${error instanceof Error ? error.message : String(error)}): is the stack up? npm run stack -- up`,
      { cause: error },
    );
  }
  try {
    await run(positionals[0], values, db);
  } finally {
    await db.end();
  }
}

main().catch((error: unknown) => {
  const usage =
    error instanceof CodedError ||
    (typeof (error as { code?: unknown })?.code === "string" && String((error as { code: string }).code).startsWith("ERR_PARSE_ARGS"));
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(usage ? 2 : 1);
});
