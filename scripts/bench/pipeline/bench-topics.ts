import { setTimeout as sleep } from "node:timers/promises";
import { withAdmin } from "../../../services/shared/kafka/kafka-admin.ts";
import type { Kafka } from "../../../services/shared/kafka/kafka-types.ts";

/**
 * Removes the topics and consumer groups of the benchmark's topic prefix, so a run starts from empty topics (a
 * previous run cut short leaves records about orders its wiped database no longer has). The services create the
 * topics again when they start. Bounded: waits at most 30 s for Kafka to finish the deletions.
 */
export async function resetBenchTopics(kafka: Kafka, prefix: string, groupIds: string[], log: (line: string) => void): Promise<void> {
  await withAdmin(kafka, async (admin) => {
    const ours = (await admin.listTopics()).filter((topic) => topic.startsWith(prefix));
    // A group that does not exist is reported per group, not thrown for all: the rest are still deleted.
    await admin.deleteGroups(groupIds).catch(() => undefined);
    if (ours.length === 0) return;
    log(`kafka: deleting ${ours.length} topics of prefix ${prefix} from an earlier run`);
    await admin.deleteTopics({ topics: ours, timeout: 30_000 });
    const deadline = Date.now() + 30_000;
    for (;;) {
      const left = (await admin.listTopics()).filter((topic) => ours.includes(topic));
      if (left.length === 0) return;
      if (Date.now() > deadline) throw new Error(`kafka: topics ${left.join(", ")} still exist 30 s after their deletion`);
      await sleep(250);
    }
  });
}
