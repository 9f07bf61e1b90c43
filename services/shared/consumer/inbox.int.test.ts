import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_DATABASE_URL } from "../../../test/support/stack-test-kit.ts";
import { executorOf } from "../db/sql.ts";
import { purgeInbox, recordFirstDeliveries } from "./inbox.ts";

let pool: pg.Pool;
const group = `inbox-test-${randomUUID().slice(0, 8)}`;
const otherGroup = `${group}-other`;

async function seed(consumerGroup: string, count: number, ageHours: number): Promise<string[]> {
  const ids = Array.from({ length: count }, () => randomUUID());
  await pool.query("INSERT INTO inbox (consumer_group, event_id, processed_at) SELECT $1, unnest($2::uuid[]), now() - make_interval(hours => $3)", [
    consumerGroup,
    ids,
    ageHours,
  ]);
  return ids;
}

async function remaining(consumerGroup: string): Promise<number> {
  const { rows } = await pool.query<{ n: string }>("SELECT count(*) AS n FROM inbox WHERE consumer_group = $1", [consumerGroup]);
  return Number(rows[0]!.n);
}

beforeAll(() => {
  pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 2 });
});

afterAll(async () => {
  await pool?.query("DELETE FROM inbox WHERE consumer_group = ANY($1::text[])", [[group, otherGroup]]);
  await pool?.end();
});

describe("inbox", () => {
  it("records a delivery once and reports only the first ones", async () => {
    const db = executorOf(pool);
    const [a, b] = [randomUUID(), randomUUID()];
    expect(await recordFirstDeliveries(db, group, [a])).toEqual(new Set([a]));
    expect(await recordFirstDeliveries(db, group, [a, b])).toEqual(new Set([b]));
    expect(await recordFirstDeliveries(db, otherGroup, [a])).toEqual(new Set([a])); // groups are independent
  });

  it("purges its group's rows older than the retention in batches, and nothing else", async () => {
    await pool.query("DELETE FROM inbox WHERE consumer_group = ANY($1::text[])", [[group, otherGroup]]);
    await seed(group, 25, 30);
    const young = await seed(group, 5, 1);
    await seed(otherGroup, 7, 30);
    expect(await purgeInbox(executorOf(pool), group, 24, 10)).toBe(25);
    expect(await remaining(group)).toBe(5);
    expect(await recordFirstDeliveries(executorOf(pool), group, young)).toEqual(new Set()); // still deduplicated
    expect(await remaining(otherGroup)).toBe(7);
  });
});
