import { describe, expect, it } from "vitest";
import { parseQuorumLeader } from "./kafka-cluster-kit.ts";

// Answers of Kafka 4.1.1 to DescribeQuorum v0 (size prefix removed), captured from the 3-node cluster.
const FROM_A_BROKER =
  "0000000700000002135f5f636c75737465725f6d6574616461746102000000000000000000020000000400000000000001160400000001000000000000011600000000020000000000000116000000000300000000000001160001000000";
const FROM_A_FOLLOWING_CONTROLLER = "0000000700000002135f5f636c75737465725f6d6574616461746102000000000006000000000000000000000000000000000101000000";

describe("DescribeQuorum response", () => {
  it("names the quorum's leader", () => {
    expect(parseQuorumLeader(Buffer.from(FROM_A_BROKER, "hex"))).toBe(2);
  });

  it("fails on an error code instead of reading a leader that is not one", () => {
    expect(() => parseQuorumLeader(Buffer.from(FROM_A_FOLLOWING_CONTROLLER, "hex"))).toThrow("DescribeQuorum failed with error code 6");
  });
});
