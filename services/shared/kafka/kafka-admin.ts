import kafkajs from "kafkajs";
import type { Admin, Kafka } from "kafkajs";
import { CodedError, defineError } from "../errors/coded-error.ts";

// kafkajs is CommonJS: runtime values come from its default export.
const { AssignerProtocol, ConfigResourceTypes } = kafkajs;

/** A topic as the application wants it to exist. */
export interface TopicSpec {
  topic: string;
  numPartitions: number;
  replicationFactor: number;
  /** Topic-level configs, e.g. { "retention.ms": "604800000", "min.insync.replicas": "1" }. */
  configs?: Record<string, string>;
}

export interface ClusterDescription {
  clusterId: string;
  controller: number | null;
  brokers: Array<{ nodeId: number; host: string; port: number }>;
}

/** Offsets of one partition. Kafka offsets are 64-bit; these stay far below 2^53, so numbers are safe here. */
export interface PartitionOffsets {
  partition: number;
  /** First offset still in the log. */
  low: number;
  /** Next offset to be written (the "end offset"). */
  high: number;
}

export interface GroupPartitionOffset {
  topic: string;
  partition: number;
  /** Committed offset, or -1 when the group has committed nothing for this partition. */
  offset: number;
}

export interface GroupMemberDescription {
  memberId: string;
  clientId: string;
  clientHost: string;
  /** Partitions the group leader assigned to this member, per topic (empty while the group rebalances). */
  assignment: Array<{ topic: string; partitions: number[] }>;
}

export interface GroupDescription {
  groupId: string;
  /** "Stable", "Empty", "PreparingRebalance", "CompletingRebalance", "Dead" or "Unknown". */
  state: string;
  protocol: string;
  members: GroupMemberDescription[];
}

/**
 * An existing topic has another partition count than configured. Never fixed implicitly: adding partitions moves
 * keys to other partitions, so an order's later events could overtake its earlier ones (docs/outbox-relay.md has
 * the safe procedure). Retrying cannot help; the operator must act.
 */
export const TopicPartitionMismatchError = defineError({
  code: "TOPIC_PARTITION_MISMATCH",
  status: 500,
  title: "An existing topic has a different partition count than configured",
  canRetry: false,
});

/** Connects an admin client, runs work, always disconnects. */
export async function withAdmin<T>(kafka: Kafka, work: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.disconnect();
  }
}

/** Runs work with an admin client that stays connected between calls (see keptAdmin). */
export interface AdminSession {
  use<T>(work: (admin: Admin) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/**
 * One admin client connected on first use and kept for the next calls: a caller that reads the cluster every second
 * or two (the console's sampler) would otherwise pay a connection and a metadata round per read. A call that fails
 * drops the client (its connection may be what broke); the next call connects a new one.
 */
export function keptAdmin(kafka: Kafka): AdminSession {
  let connected: Promise<Admin> | undefined;
  const drop = async (): Promise<void> => {
    const current = connected;
    connected = undefined;
    if (current) await (await current.catch(() => undefined))?.disconnect().catch(() => undefined);
  };
  return {
    async use(work) {
      connected ??= (async () => {
        const admin = kafka.admin();
        await admin.connect();
        return admin;
      })();
      try {
        return await work(await connected);
      } catch (error) {
        await drop();
        throw error;
      }
    },
    close: drop,
  };
}

/**
 * Creates the topics that do not exist yet and refuses (TopicPartitionMismatchError) when an existing one has another
 * partition count than asked: it never adds partitions, which would re-hash keys. Then it waits (bounded) until every partition has a leader: right after creation Kafka 4 (KRaft) may
 * still answer UNKNOWN_TOPIC_OR_PARTITION for a moment, which kafkajs does not retry, so subscribing or producing in
 * that window would fail. Safe to call on every start and from several processes at once. Returns the topics it
 * created.
 */
export async function ensureTopics(admin: Admin, specs: TopicSpec[], timeoutMs = 30_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  const created = new Set<string>();
  for (let attempt = 1; ; attempt += 1) {
    try {
      for (const topic of await createMissing(admin, specs, timeoutMs)) created.add(topic);
      if (await everyPartitionHasALeader(admin, specs)) return [...created];
      if (Date.now() > deadline) throw new Error(`topics ${specs.map((s) => s.topic).join(", ")} have no leaders after ${timeoutMs} ms`);
    } catch (error) {
      if ((error instanceof CodedError && !error.canRetry) || Date.now() > deadline) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(100 * attempt, 1_000)));
  }
}

async function createMissing(admin: Admin, specs: TopicSpec[], timeoutMs: number): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = specs.filter((spec) => !existing.has(spec.topic));
  if (missing.length > 0) {
    // kafkajs returns false instead of failing when another process created a topic first: that is fine here.
    await admin.createTopics({
      waitForLeaders: true,
      timeout: timeoutMs,
      topics: missing.map((spec) => ({
        topic: spec.topic,
        numPartitions: spec.numPartitions,
        replicationFactor: spec.replicationFactor,
        configEntries: Object.entries(spec.configs ?? {}).map(([name, value]) => ({ name, value })),
      })),
    });
  }
  await refusePartitionMismatch(
    admin,
    specs.filter((spec) => existing.has(spec.topic)),
  );
  return missing.map((spec) => spec.topic);
}

async function everyPartitionHasALeader(admin: Admin, specs: TopicSpec[]): Promise<boolean> {
  if (specs.length === 0) return true;
  const { topics } = await admin.fetchTopicMetadata({ topics: specs.map((spec) => spec.topic) });
  return topics.every((topic) => topic.partitions.length > 0 && topic.partitions.every((p) => p.leader >= 0));
}

async function refusePartitionMismatch(admin: Admin, specs: TopicSpec[]): Promise<void> {
  if (specs.length === 0) return;
  const { topics } = await admin.fetchTopicMetadata({ topics: specs.map((spec) => spec.topic) });
  const current = new Map(topics.map((topic) => [topic.name, topic.partitions.length]));
  // 0 = just created by another process and not fully visible yet: the leader wait covers that, it is no mismatch.
  const mismatched = specs.filter((spec) => (current.get(spec.topic) ?? 0) > 0 && current.get(spec.topic) !== spec.numPartitions);
  if (mismatched.length === 0) return;
  const detail = mismatched
    .map((spec) => `topic ${spec.topic} has ${current.get(spec.topic) ?? 0} partitions, TOPIC_PARTITIONS is ${spec.numPartitions}`)
    .join("; ");
  throw new TopicPartitionMismatchError({
    detail: `${detail}. Partitions are never added implicitly (keys would move and reorder); set TOPIC_PARTITIONS to the topic's count, or follow "Changing the partition count" in docs/outbox-relay.md`,
    context: { topics: mismatched.map((spec) => spec.topic) },
  });
}

export async function describeCluster(admin: Admin): Promise<ClusterDescription> {
  const { clusterId, controller, brokers } = await admin.describeCluster();
  return { clusterId, controller, brokers: brokers.map(({ nodeId, host, port }) => ({ nodeId, host, port })) };
}

/** The effective values of some configs of a topic (its own or inherited from the brokers), by name. */
export async function describeTopicConfigs(admin: Admin, topic: string, names: string[]): Promise<Record<string, string>> {
  const { resources } = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: names }],
  });
  return Object.fromEntries((resources[0]?.configEntries ?? []).map((entry) => [entry.configName, entry.configValue]));
}

/** Deletes the topics that exist among `topics` (deleting a missing topic is not an error here). */
export async function deleteTopics(admin: Admin, topics: string[], timeoutMs = 30_000): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const present = topics.filter((topic) => existing.has(topic));
  if (present.length > 0) await admin.deleteTopics({ topics: present, timeout: timeoutMs });
}

export async function fetchTopicOffsets(admin: Admin, topic: string): Promise<PartitionOffsets[]> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.map(({ partition, low, high }) => ({ partition, low: Number(low), high: Number(high) })).sort((a, b) => a.partition - b.partition);
}

/** Committed offsets of a consumer group, for the given topics (all the group's topics when omitted). */
export async function fetchGroupOffsets(admin: Admin, groupId: string, topics?: string[]): Promise<GroupPartitionOffset[]> {
  const result = await admin.fetchOffsets(topics === undefined ? { groupId } : { groupId, topics });
  return result.flatMap(({ topic, partitions }) => partitions.map(({ partition, offset }) => ({ topic, partition, offset: Number(offset) })));
}

export async function describeGroups(admin: Admin, groupIds: string[]): Promise<GroupDescription[]> {
  const { groups } = await admin.describeGroups(groupIds);
  return groups.map(({ groupId, state, protocol, members }) => ({
    groupId,
    state,
    protocol,
    members: members.map(({ memberId, clientId, clientHost, memberAssignment }) => ({
      memberId,
      clientId,
      clientHost,
      assignment: decodeAssignment(memberAssignment),
    })),
  }));
}

/** The consumer protocol's member assignment (what the group leader handed this member); empty when absent. */
function decodeAssignment(raw: Buffer): Array<{ topic: string; partitions: number[] }> {
  if (raw.length === 0) return [];
  const decoded = AssignerProtocol.MemberAssignment.decode(raw);
  if (!decoded) return [];
  return Object.entries(decoded.assignment)
    .map(([topic, partitions]) => ({ topic, partitions: [...partitions].sort((a, b) => a - b) }))
    .sort((a, b) => a.topic.localeCompare(b.topic));
}
