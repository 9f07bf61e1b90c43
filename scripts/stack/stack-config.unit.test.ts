import { describe, expect, it } from "vitest";
import { loadStackConfig } from "./stack-config.ts";

describe("the kafka-cluster profile's settings", () => {
  it("give each of the 3 nodes consecutive broker and controller ports from the first, beside the single node", () => {
    const { kafkaCluster } = loadStackConfig({});
    expect(kafkaCluster).toEqual({ brokerPorts: [9192, 9193, 9194], controllerPorts: [9292, 9293, 9294], heapMb: 320 });
    expect(loadStackConfig({ KAFKA_CLUSTER_PORT: "24100", KAFKA_CLUSTER_CONTROLLER_PORT: "24110", KAFKA_CLUSTER_HEAP_MB: "256" }).kafkaCluster).toEqual({
      brokerPorts: [24100, 24101, 24102],
      controllerPorts: [24110, 24111, 24112],
      heapMb: 256,
    });
  });

  it("refuses ports that overlap each other or the single broker's, or run past 65535", () => {
    expect(() => loadStackConfig({ KAFKA_CLUSTER_PORT: "9192", KAFKA_CLUSTER_CONTROLLER_PORT: "9194" })).toThrow(/overlap .* at port 9194/);
    expect(() => loadStackConfig({ KAFKA_CLUSTER_PORT: "9091" })).toThrow(/KAFKA_PORT\/KAFKA_CONTROLLER_PORT .* at port 9092/);
    expect(() => loadStackConfig({ KAFKA_PORT: "9293" })).toThrow(/at port 9293/);
    expect(() => loadStackConfig({ KAFKA_CLUSTER_PORT: "65534" })).toThrow(/KAFKA_CLUSTER_PORT=65534 leaves no room for 3/);
    expect(() => loadStackConfig({ KAFKA_CLUSTER_CONTROLLER_PORT: "x" })).toThrow(/KAFKA_CLUSTER_CONTROLLER_PORT must be an integer/);
  });

  it("refuses a heap a broker cannot start with", () => {
    expect(() => loadStackConfig({ KAFKA_CLUSTER_HEAP_MB: "64" })).toThrow(/KAFKA_CLUSTER_HEAP_MB must be at least 128/);
  });
});
