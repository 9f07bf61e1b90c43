import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { runCommand } from "../../scripts/stack/process.ts";
import { stackPaths } from "../../scripts/stack/stack-config.ts";

/** One record as kafka-console-consumer prints it with print.partition/offset/headers/key (value left out: Avro). */
export interface ConsoleRecord {
  partition: number;
  offset: string;
  key: string;
  headers: Record<string, string>;
}

/** "Partition:2\tOffset:45\tevent-type:OrderPlaced,event-id:...\t<key>" (DefaultMessageFormatter's layout). */
export function parseConsoleConsumerOutput(text: string): ConsoleRecord[] {
  const records: ConsoleRecord[] = [];
  for (const line of text.split("\n")) {
    const match = /^Partition:(\d+)\tOffset:(\d+)\t(.*)\t(.*)$/.exec(line.trimEnd());
    if (!match) continue;
    const headers = Object.fromEntries(
      match[3]!
        .split(",")
        .map((pair) => pair.split(":"))
        .filter((parts) => parts.length >= 2)
        .map(([name, ...value]) => [name!, value.join(":")]),
    );
    records.push({ partition: Number(match[1]), offset: match[2]!, headers, key: match[4]! });
  }
  return records;
}

/**
 * Every record of `topic` from the beginning, read by Kafka's own ConsoleConsumer (kafka-tools jar in .stack/kafka/libs,
 * what kafka-console-consumer.sh runs), with its partition, offset, headers and key. Stops after `idleMs` without a
 * record (--timeout-ms; the tool then exits with a TimeoutException, which is expected).
 */
export async function readTopicWithConsoleConsumer(bootstrap: string, topic: string, idleMs = 5_000): Promise<ConsoleRecord[]> {
  const libs = path.join(stackPaths().root, "kafka", "libs");
  const dir = mkdtempSync(path.join(tmpdir(), "console-consumer-"));
  const logFile = path.join(dir, "out.txt");
  try {
    const properties = ["print.partition=true", "print.offset=true", "print.headers=true", "print.key=true", "print.value=false"].flatMap((p) => [
      "--property",
      p,
    ]);
    await runCommand(
      "kafka-console-consumer",
      "java",
      [
        "-cp",
        `${libs}/*`,
        "org.apache.kafka.tools.consumer.ConsoleConsumer",
        "--bootstrap-server",
        bootstrap,
        "--topic",
        topic,
        "--from-beginning",
        "--timeout-ms",
        String(idleMs),
        ...properties,
      ],
      { logFile, timeoutMs: 90_000 },
    ).catch(() => undefined); // a non-zero exit after the timeout is how the tool ends; the output says what it read
    return parseConsoleConsumerOutput(readFileSync(logFile, "utf8"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
