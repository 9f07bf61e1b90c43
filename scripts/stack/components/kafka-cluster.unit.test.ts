import { describe, expect, it } from "vitest";
import type { StackContext } from "../context.ts";
import { loadStackConfig } from "../stack-config.ts";
import { kafkaClusterComponent } from "./kafka-cluster.ts";
import { nodeProperties } from "./kafka-node.ts";

const ctx = {
  config: loadStackConfig({ KAFKA_CLUSTER_PORT: "24100", KAFKA_CLUSTER_CONTROLLER_PORT: "24110" }),
  paths: { repo: "/repo", root: "/repo/.stack", logs: "/repo/.stack/logs", run: "/repo/.stack/run" },
  signal: undefined,
  info: () => undefined,
  step: (_component, _what, work) => work(),
} satisfies StackContext;

function properties(text: string): Map<string, string> {
  return new Map(
    text
      .split("\n")
      .filter((line) => line.includes("=") && !line.startsWith("#"))
      .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
  );
}

describe("the kafka-cluster component", () => {
  const cluster = kafkaClusterComponent("kafka-cluster-x");
  const nodes = cluster.nodes(ctx);

  it("runs 3 nodes, each broker and voter, on their own ports and folders under .stack/<name>/", () => {
    expect(nodes.map((n) => [n.name, n.nodeId, n.brokerPort, n.controllerPort, n.data])).toEqual([
      ["kafka-cluster-x-1", 1, 24100, 24110, "/repo/.stack/kafka-cluster-x/node-1/data"],
      ["kafka-cluster-x-2", 2, 24101, 24111, "/repo/.stack/kafka-cluster-x/node-2/data"],
      ["kafka-cluster-x-3", 3, 24102, 24112, "/repo/.stack/kafka-cluster-x/node-3/data"],
    ]);
    expect(new Set(nodes.map((n) => n.clusterIdFile)).size).toBe(1);
    expect(cluster.bootstrapServers(ctx)).toBe("127.0.0.1:24100,127.0.0.1:24101,127.0.0.1:24102");
  });

  it("replicates every topic, the internal ones included, 3 times with min.insync.replicas 2 and no unclean election", () => {
    const props = properties(nodeProperties(nodes[1]!));
    expect(props.get("process.roles")).toBe("broker,controller");
    expect(props.get("node.id")).toBe("2");
    expect(props.get("controller.quorum.voters")).toBe("1@127.0.0.1:24110,2@127.0.0.1:24111,3@127.0.0.1:24112");
    expect(props.get("listeners")).toBe("PLAINTEXT://127.0.0.1:24101,CONTROLLER://127.0.0.1:24111");
    for (const key of [
      "default.replication.factor",
      "offsets.topic.replication.factor",
      "transaction.state.log.replication.factor",
      "share.coordinator.state.topic.replication.factor",
    ]) {
      expect([key, props.get(key)]).toEqual([key, "3"]);
    }
    for (const key of ["min.insync.replicas", "transaction.state.log.min.isr", "share.coordinator.state.topic.min.isr"])
      expect([key, props.get(key)]).toEqual([key, "2"]);
    expect(props.get("unclean.leader.election.enable")).toBe("false");
    expect(props.get("log.dirs")).toBe("/repo/.stack/kafka-cluster-x/node-2/data");
  });
});
