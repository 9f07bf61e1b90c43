/**
 * The 3-node KRaft cluster of the chaos scenario, run through the stack's own component (a cluster of its own,
 * `.stack/kafka-cluster-chaos/`, on the kafka-cluster profile's ports), plus what the scenario does to it: kill -9
 * one node, restart it, find a partition's leader (Metadata) and the active controller (DescribeQuorum), and an
 * open-loop order load.
 */
import { readFileSync } from "node:fs";
import net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { kafkaClusterComponent, type KafkaClusterComponent } from "../../scripts/stack/components/kafka-cluster.ts";
import { startNode, type KafkaNodeSpec } from "../../scripts/stack/components/kafka-node.ts";
import { createStackContext, type StackContext } from "../../scripts/stack/context.ts";
import { isAlive, readPid } from "../../scripts/stack/process.ts";
import { stackUp } from "../../scripts/stack/stack-manager.ts";
import { withAdmin } from "../../services/shared/kafka/kafka-admin.ts";
import { createKafka, parseBrokers } from "../../services/shared/kafka/kafka-client.ts";
import type { Kafka } from "../../services/shared/kafka/kafka-types.ts";
import { pollUntil } from "./pipeline.ts";

/** An unsigned varint, as flexible Kafka requests encode lengths. */
function uvarint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest > 0x7f) {
    bytes.push((rest & 0x7f) | 0x80);
    rest >>>= 7;
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

function int(bytes: 2 | 4, value: number): Buffer {
  const buffer = Buffer.alloc(bytes);
  if (bytes === 2) buffer.writeInt16BE(value);
  else buffer.writeInt32BE(value);
  return buffer;
}

const METADATA_TOPIC = Buffer.from("__cluster_metadata");
const CLIENT_ID = Buffer.from("orderflow-chaos");

/**
 * DescribeQuorum v0 (API key 55, a flexible version: request header v2) for partition 0 of __cluster_metadata.
 * kafkajs has no such request, and Kafka's kafka-metadata-quorum tool is a JVM start per question (tens of seconds
 * on a busy 2-core machine). A broker forwards it to the active controller.
 */
function describeQuorumRequest(correlationId: number): Buffer {
  const body = Buffer.concat([
    int(2, 55),
    int(2, 0),
    int(4, correlationId),
    int(2, CLIENT_ID.length),
    CLIENT_ID,
    uvarint(0),
    uvarint(2),
    uvarint(METADATA_TOPIC.length + 1),
    METADATA_TOPIC,
    uvarint(2),
    int(4, 0),
    uvarint(0),
    uvarint(0),
    uvarint(0),
  ]);
  return Buffer.concat([int(4, body.length), body]);
}

class Reader {
  constructor(
    private readonly buffer: Buffer,
    private offset = 0,
  ) {}
  int16(): number {
    this.offset += 2;
    return this.buffer.readInt16BE(this.offset - 2);
  }
  int32(): number {
    this.offset += 4;
    return this.buffer.readInt32BE(this.offset - 4);
  }
  uvarint(): number {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = this.buffer[this.offset++]!;
      value |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return value;
    }
  }
  skip(bytes: number): void {
    this.offset += bytes;
  }
}

/** The leader id in a DescribeQuorum v0 response (after its size); throws on an error code. */
export function parseQuorumLeader(response: Buffer): number {
  const r = new Reader(response);
  r.int32(); // correlation id
  for (let tags = r.uvarint(); tags > 0; tags -= 1) {
    r.uvarint();
    r.skip(r.uvarint());
  }
  const error = r.int16();
  if (r.uvarint() !== 2) throw new Error("DescribeQuorum answered for no topic");
  r.skip(r.uvarint() - 1); // topic name
  if (r.uvarint() !== 2) throw new Error("DescribeQuorum answered for no partition");
  r.int32(); // partition index
  const partitionError = r.int16();
  if (error !== 0 || partitionError !== 0) throw new Error(`DescribeQuorum failed with error code ${error || partitionError}`);
  return r.int32();
}

/** One DescribeQuorum round trip to a broker, bounded. */
export function describeQuorumLeader(host: string, port: number, timeoutMs = 5_000): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    let received = Buffer.alloc(0);
    const fail = (error: Error) => {
      socket.destroy();
      reject(error);
    };
    socket.setTimeout(timeoutMs, () => fail(new Error(`DescribeQuorum to ${host}:${port} timed out after ${timeoutMs} ms`)));
    socket.once("error", fail);
    socket.once("connect", () => socket.write(describeQuorumRequest(1)));
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 4 || received.length < 4 + received.readInt32BE(0)) return;
      socket.destroy();
      try {
        resolve(parseQuorumLeader(received.subarray(4)));
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  });
}

export interface PartitionState {
  topic: string;
  partition: number;
  /** -1 while the partition has no leader. */
  leader: number;
  replicas: number[];
  isr: number[];
}

export class TestCluster {
  private readonly kafka: Kafka;

  private constructor(
    readonly ctx: StackContext,
    readonly component: KafkaClusterComponent,
  ) {
    this.kafka = createKafka({
      brokers: parseBrokers(this.brokers),
      clientId: "chaos-cluster",
      logLevel: "nothing",
      connectionTimeoutMs: 1_000,
      requestTimeoutMs: 5_000,
      retries: 2,
    });
  }

  /** Installs (when missing) and starts the cluster exactly as `npm run stack -- up --profile kafka-cluster` does. */
  static async start(name = "kafka-cluster-chaos", env: NodeJS.ProcessEnv = process.env): Promise<TestCluster> {
    const ctx = createStackContext(env);
    const component = kafkaClusterComponent(name);
    await stackUp(ctx, [component]);
    return new TestCluster(ctx, component);
  }

  /** KAFKA_BROKERS of the services. */
  get brokers(): string {
    return this.component.bootstrapServers(this.ctx);
  }

  get nodes(): KafkaNodeSpec[] {
    return this.component.nodes(this.ctx);
  }

  private node(nodeId: number): KafkaNodeSpec {
    const spec = this.nodes.find((n) => n.nodeId === nodeId);
    if (!spec) throw new Error(`no node ${nodeId} in ${this.component.name}`);
    return spec;
  }

  private pidOf(nodeId: number): number | undefined {
    return readPid(this.ctx, this.node(nodeId).name);
  }

  /** kill -9: no controlled shutdown, no flush; returns when the process is gone. */
  async kill(nodeId: number): Promise<void> {
    const pid = this.pidOf(nodeId);
    if (pid === undefined) throw new Error(`node ${nodeId} is not running`);
    process.kill(pid, "SIGKILL");
    await pollUntil(async () => (isAlive(pid) ? undefined : true), 10_000, `node ${nodeId} (pid ${pid}) to die`);
  }

  /** Starts a killed node again on its data (log recovery) and waits until it answers. */
  async restart(nodeId: number): Promise<void> {
    await startNode(this.ctx, this.node(nodeId));
  }

  async stop(): Promise<void> {
    await this.component.stop(this.ctx);
  }

  /** Resident memory of each running node in MB (Linux /proc), by node id. */
  residentMb(): Record<number, number> {
    const sizes: Record<number, number> = {};
    for (const node of this.nodes) {
      const pid = this.pidOf(node.nodeId);
      const rss = pid === undefined ? undefined : /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      if (rss) sizes[node.nodeId] = Math.round(Number(rss[1]) / 1024);
    }
    return sizes;
  }

  async partitions(topics: string[]): Promise<PartitionState[]> {
    const { topics: metadata } = await withAdmin(this.kafka, (admin) => admin.fetchTopicMetadata({ topics }));
    return metadata.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partitionId, leader: p.leader, replicas: p.replicas, isr: p.isr })));
  }

  /** The active controller (the KRaft quorum's leader), asked of the first running node that answers. */
  async quorumLeader(): Promise<number> {
    const errors: string[] = [];
    for (const node of this.nodes.filter((n) => this.pidOf(n.nodeId) !== undefined)) {
      try {
        return await describeQuorumLeader(node.host, node.brokerPort);
      } catch (error) {
        errors.push(`node ${node.nodeId}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    throw new Error(`no running node answered DescribeQuorum (${errors.join("; ") || "none running"})`);
  }
}

/** Polls the partitions until `ready` holds for all of them; returns the milliseconds it took from `since`. */
export async function waitForPartitions(
  cluster: TestCluster,
  topics: string[],
  ready: (p: PartitionState) => boolean,
  what: string,
  since: number,
  timeoutMs: number,
): Promise<number> {
  let last: PartitionState[] = [];
  await pollUntil(
    async () => {
      last = await cluster.partitions(topics);
      return last.length > 0 && last.every(ready) ? true : undefined;
    },
    timeoutMs,
    () => `${what}; last seen: ${JSON.stringify(last.filter((p) => !ready(p)).slice(0, 5))}`,
    250,
  );
  return Date.now() - since;
}

export interface LoadFigures {
  /** Orders the schedule called for. */
  offered: number;
  /** Answered 201 with an order id. */
  accepted: number;
  /** Other answers, by status. */
  rejected: Record<string, number>;
  /** No answer (connection error, timeout). */
  failed: number;
  /** Not sent because maxInFlight requests were already waiting (the generator's own bound). */
  shed: number;
}

/**
 * An open-loop load: orders are sent on a fixed schedule whatever the answers take, so a slow pipeline is not
 * spared by its own slowness; at most `maxInFlight` requests wait at once (beyond that an arrival is shed and
 * counted). `post` sends one order and resolves to its id, or to the HTTP status it got instead.
 */
export class OpenLoopLoad {
  readonly acceptedOrders: Array<{ id: string; sentAt: number }> = [];
  private readonly figures: LoadFigures = { offered: 0, accepted: 0, rejected: {}, failed: 0, shed: 0 };
  private readonly inFlight = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly post: (sequence: number) => Promise<{ orderId: string } | { status: number }>,
    private readonly ratePerSecond: number,
    private readonly maxInFlight = 200,
  ) {}

  start(): void {
    const startedAt = Date.now();
    this.timer = setInterval(() => {
      const due = Math.floor(((Date.now() - startedAt) * this.ratePerSecond) / 1000);
      while (this.figures.offered < due) this.offer(this.figures.offered++);
    }, 20);
  }

  private offer(sequence: number): void {
    if (this.inFlight.size >= this.maxInFlight) {
      this.figures.shed += 1;
      return;
    }
    const sentAt = Date.now();
    const request = this.post(sequence).then(
      (answer) => {
        if ("orderId" in answer) {
          this.figures.accepted += 1;
          this.acceptedOrders.push({ id: answer.orderId, sentAt });
        } else {
          this.figures.rejected[answer.status] = (this.figures.rejected[answer.status] ?? 0) + 1;
        }
      },
      () => {
        this.figures.failed += 1;
      },
    );
    const tracked = request.finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
  }

  /** Ids of the first `count` orders sent at or after `since` that were accepted. */
  acceptedSince(since: number, count: number): string[] {
    return this.acceptedOrders
      .filter((o) => o.sentAt >= since)
      .slice(0, count)
      .map((o) => o.id);
  }

  /** Stops the schedule and waits (each request has its own timeout) for the requests still out. */
  async stop(): Promise<LoadFigures> {
    clearInterval(this.timer);
    this.timer = undefined;
    const deadline = Date.now() + 60_000;
    while (this.inFlight.size > 0 && Date.now() < deadline) await Promise.race([Promise.allSettled([...this.inFlight]), sleep(1_000)]);
    return { ...this.figures, rejected: { ...this.figures.rejected } };
  }
}
