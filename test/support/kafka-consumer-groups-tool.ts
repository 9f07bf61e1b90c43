import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { runCommand } from "../../scripts/stack/process.ts";
import { stackPaths } from "../../scripts/stack/stack-config.ts";

/** One row of `kafka-consumer-groups --describe` ("-" columns as null). */
export interface ToolPartitionRow {
  group: string;
  topic: string;
  partition: number;
  currentOffset: number | null;
  logEndOffset: number;
  lag: number | null;
  consumerId: string | null;
  host: string | null;
  clientId: string | null;
}

const dash = (value: string | undefined): string | null => (value === undefined || value === "-" ? null : value);
const numberOrNull = (value: string | undefined): number | null => (dash(value) === null ? null : Number(value));

/** Parses the table the tool prints per group (header line starts with GROUP). */
export function parseDescribeOutput(text: string, groups: readonly string[]): ToolPartitionRow[] {
  const wanted = new Set(groups);
  return text
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .filter((cells) => cells.length >= 6 && wanted.has(cells[0]!) && /^\d+$/.test(cells[2]!))
    .map(([group, topic, partition, current, end, lag, consumerId, host, clientId]) => ({
      group: group!,
      topic: topic!,
      partition: Number(partition),
      currentOffset: numberOrNull(current),
      logEndOffset: Number(end),
      lag: numberOrNull(lag),
      consumerId: dash(consumerId),
      host: dash(host),
      clientId: dash(clientId),
    }));
}

/** The tool failed for another reason than "this group does not exist". */
export class KafkaToolError extends Error {
  constructor(
    readonly group: string,
    readonly output: string,
  ) {
    super(`kafka-consumer-groups --describe --group ${group} failed:\n${output.slice(0, 2000)}`);
    this.name = "KafkaToolError";
  }
}

/**
 * Runs Kafka's own ConsumerGroupCommand (kafka-tools jar, resolved into .stack/kafka/libs by infra/kafka/pom.xml)
 * with --describe, once per group: one unknown group fails the tool's whole run (and it still exits 0), so an
 * unknown group is read as "no rows", exactly what the monitor shows for it.
 */
export async function describeWithKafkaTool(bootstrap: string, groups: readonly string[], timeoutMs = 60_000): Promise<ToolPartitionRow[]> {
  const libs = path.join(stackPaths().root, "kafka", "libs");
  const dir = mkdtempSync(path.join(tmpdir(), "consumer-groups-"));
  try {
    const rows: ToolPartitionRow[] = [];
    for (const group of groups) {
      const logFile = path.join(dir, `${group}.txt`);
      await runCommand(
        "kafka-tools",
        "java",
        ["-cp", `${libs}/*`, "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand", "--bootstrap-server", bootstrap, "--describe", "--group", group],
        { logFile, timeoutMs },
      );
      const output = readFileSync(logFile, "utf8");
      if (/GroupIdNotFoundException|does not exist/.test(output)) continue;
      if (output.includes("Error:")) throw new KafkaToolError(group, output);
      rows.push(...parseDescribeOutput(output, [group]));
    }
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
