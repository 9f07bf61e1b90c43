import { describe, expect, it } from "vitest";
import { selectComponents } from "./components/all.ts";
import { parseStackArgs } from "./stack-args.ts";

const names = (list: ReturnType<typeof selectComponents>) => list.map((c) => c.name);

describe("npm run stack arguments", () => {
  it("read the command, the components and the profile in any order", () => {
    expect(parseStackArgs(["up"])).toEqual({ command: "up", names: [], profile: "default" });
    expect(parseStackArgs(["up", "--profile", "kafka-cluster"])).toEqual({ command: "up", names: [], profile: "kafka-cluster" });
    expect(parseStackArgs(["--profile=kafka-cluster", "down", "kafka-cluster"])).toEqual({
      command: "down",
      names: ["kafka-cluster"],
      profile: "kafka-cluster",
    });
  });

  it("refuse an unknown profile or option, naming the known profiles", () => {
    expect(() => parseStackArgs(["up", "--profile", "cluster"])).toThrow('unknown profile "cluster"; known: default, kafka-cluster');
    expect(() => parseStackArgs(["up", "--brokers", "3"])).toThrow(/--brokers/);
  });

  it("select the cluster in place of the single broker with the kafka-cluster profile", () => {
    expect(names(selectComponents([]))).toEqual(["postgres", "kafka", "registry", "jaeger"]);
    expect(names(selectComponents([], "kafka-cluster"))).toEqual(["postgres", "kafka-cluster", "registry", "jaeger"]);
    expect(names(selectComponents(["kafka-cluster"]))).toEqual(["kafka-cluster"]);
    expect(() => selectComponents(["zookeeper"])).toThrow('unknown component "zookeeper"; known: postgres, kafka, registry, jaeger, kafka-cluster');
  });
});
