import { describe, expect, it } from "vitest";
import { loadStackConfig } from "./stack-config.ts";

describe("the kafka-cluster profile's settings", () => {
  it("give each of the 3 nodes consecutive broker and controller ports from the first, beside the single node", () => {
    const { kafkaCluster } = loadStackConfig({});
    expect(kafkaCluster).toEqual({ brokerPorts: [9102, 9103, 9104], controllerPorts: [9112, 9113, 9114], heapMb: 320 });
    // A clone whose single broker moved (KAFKA_PORT) gets its cluster moved with it, never onto another clone's broker.
    expect(loadStackConfig({ KAFKA_PORT: "9192", KAFKA_CONTROLLER_PORT: "9193" }).kafkaCluster).toMatchObject({
      brokerPorts: [9202, 9203, 9204],
      controllerPorts: [9212, 9213, 9214],
    });
    expect(loadStackConfig({ KAFKA_CLUSTER_PORT: "24100", KAFKA_CLUSTER_CONTROLLER_PORT: "24110", KAFKA_CLUSTER_HEAP_MB: "256" }).kafkaCluster).toEqual({
      brokerPorts: [24100, 24101, 24102],
      controllerPorts: [24110, 24111, 24112],
      heapMb: 256,
    });
  });

  it("refuses ports that overlap each other or the single broker's, or run past 65535", () => {
    expect(() => loadStackConfig({ KAFKA_CLUSTER_PORT: "9192", KAFKA_CLUSTER_CONTROLLER_PORT: "9194" })).toThrow(/overlap .* at port 9194/);
    expect(() => loadStackConfig({ KAFKA_CLUSTER_PORT: "9091" })).toThrow(/KAFKA_PORT\/KAFKA_CONTROLLER_PORT .* at port 9092/);
    expect(() => loadStackConfig({ KAFKA_CONTROLLER_PORT: "9113" })).toThrow(/at port 9113/);
    expect(() => loadStackConfig({ KAFKA_CLUSTER_PORT: "65534" })).toThrow(/KAFKA_CLUSTER_PORT=65534 leaves no room for 3/);
    expect(() => loadStackConfig({ KAFKA_CLUSTER_CONTROLLER_PORT: "x" })).toThrow(/KAFKA_CLUSTER_CONTROLLER_PORT must be an integer/);
  });

  it("refuses a heap a broker cannot start with", () => {
    expect(() => loadStackConfig({ KAFKA_CLUSTER_HEAP_MB: "64" })).toThrow(/KAFKA_CLUSTER_HEAP_MB must be at least 128/);
  });
});
