/**
 * A test-only trigger on outbox that reaches inside the one accept statement: for an order whose customer id holds a
 * marker, the OrderPlaced row's insert fails (`fail`), waits on an advisory lock the test holds (`wait`), takes
 * TRAP_SLOW_MS (`slow`: a slow database), or the statement fails at its commit, once every row is written (`late`: a
 * deferred constraint trigger). Every other order
 * passes untouched, so the trigger can stay installed for a whole file. The accept has no seam of its own: it is one
 * statement, and this is the only way into its middle.
 */
import pg from "pg";
import { TEST_DATABASE_URL, TEST_PREFIX } from "./order-api-harness.ts";

const LOCK_KEY = 727_274;
/** How long a `slow` order's statement takes. */
export const TRAP_SLOW_MS = 300;

/** Customer ids the trap acts on (each still starts with TEST_PREFIX, so cleanTestRows removes their rows). */
export const TRAPPED_CUSTOMER = {
  fail: `${TEST_PREFIX}trap-fail`,
  wait: `${TEST_PREFIX}trap-wait`,
  slow: `${TEST_PREFIX}trap-slow`,
  late: `${TEST_PREFIX}trap-late`,
} as const;

const INSTALL = `
  CREATE OR REPLACE FUNCTION test_accept_trap() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF NEW.payload->>'customer_id' LIKE '${TRAPPED_CUSTOMER.fail}%' THEN
      RAISE EXCEPTION 'injected failure: orders=%', (SELECT count(*) FROM orders WHERE id = NEW.key::uuid);
    END IF;
    IF NEW.payload->>'customer_id' LIKE '${TRAPPED_CUSTOMER.wait}%' THEN PERFORM pg_advisory_xact_lock_shared(${LOCK_KEY}); END IF;
    IF NEW.payload->>'customer_id' LIKE '${TRAPPED_CUSTOMER.slow}%' THEN PERFORM pg_sleep(${TRAP_SLOW_MS / 1000}); END IF;
    RETURN NEW;
  END $$;
  CREATE OR REPLACE FUNCTION test_accept_trap_late() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF NEW.payload->>'customer_id' LIKE '${TRAPPED_CUSTOMER.late}%' THEN
      RAISE EXCEPTION 'injected failure at commit: orders=%, outbox=%',
        (SELECT count(*) FROM orders WHERE id = NEW.key::uuid), (SELECT count(*) FROM outbox WHERE key = NEW.key);
    END IF;
    RETURN NULL;
  END $$;
  DROP TRIGGER IF EXISTS test_accept_trap ON outbox;
  DROP TRIGGER IF EXISTS test_accept_trap_late ON outbox;
  CREATE TRIGGER test_accept_trap BEFORE INSERT ON outbox FOR EACH ROW EXECUTE FUNCTION test_accept_trap();
  CREATE CONSTRAINT TRIGGER test_accept_trap_late AFTER INSERT ON outbox DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION test_accept_trap_late();`;

const UNINSTALL = `
  DROP TRIGGER IF EXISTS test_accept_trap ON outbox;
  DROP TRIGGER IF EXISTS test_accept_trap_late ON outbox;
  DROP FUNCTION IF EXISTS test_accept_trap();
  DROP FUNCTION IF EXISTS test_accept_trap_late();`;

export class AcceptTrap {
  private holder: pg.Client | undefined;

  private constructor(private readonly admin: pg.Client) {}

  static async install(): Promise<AcceptTrap> {
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    await admin.query(INSTALL);
    return new AcceptTrap(admin);
  }

  /** From now on a `wait` order's statement waits (inside it, its other rows written, nothing committed). */
  async close(): Promise<void> {
    this.holder = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await this.holder.connect();
    await this.holder.query("SELECT pg_advisory_lock($1)", [LOCK_KEY]);
  }

  /** Bounded: until a statement waits at the trap. */
  async reached(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const { rows } = await this.admin.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND objid = $1 AND NOT granted",
        [LOCK_KEY],
      );
      if ((rows[0]?.n ?? 0) > 0) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`no accept statement reached the trap within ${timeoutMs} ms`);
  }

  /** Lets the waiting statement go on. */
  async open(): Promise<void> {
    await this.holder?.end();
    this.holder = undefined;
  }

  async uninstall(): Promise<void> {
    await this.open();
    await this.admin.query(UNINSTALL);
    await this.admin.end();
  }
}
