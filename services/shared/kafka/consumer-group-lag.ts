import kafkajs from "kafkajs";
import type { Admin } from "kafkajs";
import { fetchGroupOffsets, fetchTopicOffsets } from "./kafka-admin.ts";

const { AssignerProtocol } = kafkajs;

/** One partition of a group, with the same columns as `kafka-consumer-groups --describe`. */
export interface PartitionLag {
  topic: string;
  partition: number;
  /** Committed offset, or null ("-") when the group has none for this partition. */
  committedOffset: number | null;
  logEndOffset: number;
  /** logEndOffset - committedOffset, or null without a committed offset (as Kafka's tool prints "-"). */
  lag: number | null;
  /** The member the partition is assigned to right now, or null when no member owns it. */
  owner: { memberId: string; clientId: string; host: string } | null;
}

export interface GroupLag {
  groupId: string;
  /** "Stable", "Empty", "PreparingRebalance", "CompletingRebalance", "Dead". */
  state: string;
  members: number;
  partitions: PartitionLag[];
  /** Sum of the known lags. */
  totalLag: number;
}

type Owner = NonNullable<PartitionLag["owner"]>;

/** topic -> partition -> owning member, decoded from each member's assignment (consumer protocol). */
function assignments(
  members: ReadonlyArray<{ memberId: string; clientId: string; clientHost: string; memberAssignment: Buffer }>,
): Map<string, Map<number, Owner>> {
  const byTopic = new Map<string, Map<number, Owner>>();
  for (const member of members) {
    if (member.memberAssignment.length === 0) continue; // joined, not yet assigned (rebalancing)
    const decoded = AssignerProtocol.MemberAssignment.decode(member.memberAssignment);
    for (const [topic, partitions] of Object.entries(decoded?.assignment ?? {})) {
      const owners = byTopic.get(topic) ?? new Map<number, Owner>();
      // Kafka's tool prints the host with a leading "/" (InetAddress.toString); kafkajs reports it the same way.
      for (const partition of partitions) owners.set(partition, { memberId: member.memberId, clientId: member.clientId, host: member.clientHost });
      byTopic.set(topic, owners);
    }
  }
  return byTopic;
}

/**
 * Lag of one consumer group, computed the way ConsumerGroupCommand --describe does: every partition that is assigned
 * to a member or has a committed offset, with the log end offset (high watermark) and the owning member.
 */
export async function describeGroupLag(admin: Admin, groupId: string): Promise<GroupLag> {
  const { groups } = await admin.describeGroups([groupId]);
  const description = groups[0];
  const owners = assignments(description?.members ?? []);
  const committed = (await fetchGroupOffsets(admin, groupId)).filter((entry) => entry.offset >= 0);
  const topics = [...new Set([...committed.map((entry) => entry.topic), ...owners.keys()])].sort();
  const partitions: PartitionLag[] = [];
  for (const topic of topics) {
    const ends = new Map((await fetchTopicOffsets(admin, topic)).map((offsets) => [offsets.partition, offsets.high]));
    const committedHere = new Map(committed.filter((entry) => entry.topic === topic).map((entry) => [entry.partition, entry.offset]));
    const ownedHere = owners.get(topic) ?? new Map<number, Owner>();
    const partitionIds = [...new Set([...committedHere.keys(), ...ownedHere.keys()])].sort((a, b) => a - b);
    for (const partition of partitionIds) {
      const logEndOffset = ends.get(partition) ?? 0;
      const committedOffset = committedHere.get(partition) ?? null;
      partitions.push({
        topic,
        partition,
        committedOffset,
        logEndOffset,
        lag: committedOffset === null ? null : logEndOffset - committedOffset,
        owner: ownedHere.get(partition) ?? null,
      });
    }
  }
  return {
    groupId,
    state: description?.state ?? "Unknown",
    members: description?.members.length ?? 0,
    partitions,
    totalLag: partitions.reduce((sum, entry) => sum + (entry.lag ?? 0), 0),
  };
}

/** Messages currently in a topic (sum over partitions of high - low): the depth of a dead-letter topic. */
export async function topicDepth(admin: Admin, topic: string): Promise<number> {
  const existing = new Set(await admin.listTopics());
  if (!existing.has(topic)) return 0;
  return (await fetchTopicOffsets(admin, topic)).reduce((sum, offsets) => sum + (offsets.high - offsets.low), 0);
}
