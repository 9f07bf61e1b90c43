import { describe, expect, it } from "vitest";
import { keptAdmin } from "./kafka-admin.ts";
import type { Admin, Kafka } from "./kafka-types.ts";

function fakeKafka() {
  const log: string[] = [];
  let made = 0;
  const kafka = {
    admin: () => {
      const id = (made += 1);
      return { connect: async () => void log.push(`connect ${id}`), disconnect: async () => void log.push(`disconnect ${id}`), id } as unknown as Admin;
    },
  } as unknown as Kafka;
  return { kafka, log };
}

describe("kept admin client", () => {
  it("connects once for many calls, drops the client after a failed call, and disconnects on close", async () => {
    const { kafka, log } = fakeKafka();
    const session = keptAdmin(kafka);
    const ids: unknown[] = [];
    await Promise.all([
      session.use(async (admin) => ids.push((admin as unknown as { id: number }).id)),
      session.use(async (admin) => ids.push((admin as unknown as { id: number }).id)),
    ]);
    expect(ids).toEqual([1, 1]);
    await expect(session.use(async () => Promise.reject(new Error("connection reset")))).rejects.toThrow("connection reset");
    await session.use(async (admin) => ids.push((admin as unknown as { id: number }).id));
    expect(ids).toEqual([1, 1, 2]);
    await session.close();
    expect(log).toEqual(["connect 1", "disconnect 1", "connect 2", "disconnect 2"]);
  });
});
