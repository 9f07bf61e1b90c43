import { describe, expect, it } from "vitest";
import type { Kafka, Message, Producer } from "../kafka/kafka-types.ts";
import { createLogger } from "../logging/create-logger.ts";
import { DeadLetterSender } from "./dead-letter-sender.ts";

/** Producers that fail their sends while `failing` is true; counts how many were created and disconnected. */
function fakeKafka(state: { failing: boolean; created: number; disconnected: number; sentBy: number[] }): Kafka {
  return {
    producer: () => {
      const id = ++state.created;
      let wedged = false;
      return {
        connect: async () => undefined,
        disconnect: async () => void (state.disconnected += 1),
        send: async () => {
          // Like kafkajs' idempotent producer after a timed-out send: once wedged, every later send fails too.
          if (state.failing || wedged) {
            wedged = true;
            throw new Error("timeout");
          }
          state.sentBy.push(id);
          return [];
        },
      } as unknown as Producer;
    },
  } as unknown as Kafka;
}

describe("DeadLetterSender", () => {
  it("replaces the producer after a failed send, so one timeout cannot wedge every later dead letter", async () => {
    const state = { failing: true, created: 0, disconnected: 0, sentBy: [] as number[] };
    const sender = new DeadLetterSender(fakeKafka(state), createLogger({ service: "test", level: "silent" }));
    await sender.connect();
    const message: Message = { key: "k", value: "v" };
    await expect(sender.send("dlq.test", message)).rejects.toThrow("timeout");
    state.failing = false;
    await sender.send("dlq.test", message);
    expect(state.created).toBe(2);
    expect(state.disconnected).toBe(1);
    expect(state.sentBy).toEqual([2]);
  });
});
