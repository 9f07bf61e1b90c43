// A stand-in for a consumer host that froze mid-transaction: opens a transaction through the services' own pool
// factory (so with their session settings), locks one stock row, prints "locked" and then never speaks again.
// The test SIGSTOPs it: its socket stays open, as a frozen (not killed) process's does.
import { loadConfig } from "../../../services/shared/config/load-config.ts";
import { databaseFromConfig } from "../../../services/shared/db/prisma-from-config.ts";
import { createLogger } from "../../../services/shared/logging/create-logger.ts";

const sku = process.argv[2];
if (!sku) throw new Error("usage: hold-row-lock.ts <sku>");
const database = databaseFromConfig(loadConfig(), "frozen-consumer", createLogger({ service: "frozen-consumer", level: "silent" }));
const client = await database.pool.connect();
await client.query("BEGIN");
await client.query("UPDATE stock SET updated_at = now() WHERE sku = $1", [sku]);
process.stdout.write("locked\n");
setInterval(() => undefined, 60_000);
