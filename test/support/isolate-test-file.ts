// Runs before every int/e2e test file (vitest setupFiles). Every relay publishes every unpublished outbox row,
// whatever topic prefix it was started with, so rows a previous file left unpublished would otherwise flow into
// this file's topics and consumers. Files sharing a database run one at a time (int files run side by side only on
// a database per worker: int-worker-database.ts), so clearing them is enough.
import { beforeAll } from "vitest";
import pg from "pg";

const databaseUrl = process.env.DATABASE_URL || "postgresql://orderflow:orderflow@127.0.0.1:5432/orderflow_test";

beforeAll(async () => {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5000, query_timeout: 30_000 });
  await client.connect();
  try {
    const exists = await client.query("SELECT to_regclass('public.outbox') IS NOT NULL AS present");
    if (exists.rows[0]?.present) await client.query("DELETE FROM outbox WHERE published_at IS NULL");
  } finally {
    await client.end();
  }
});
