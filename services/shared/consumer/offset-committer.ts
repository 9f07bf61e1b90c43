/**
 * Offset commits of one runner, few of them. kafkajs with autoCommit commits after EVERY batch of every partition
 * (its runner does so unconditionally); with runs of one or two records that is an OffsetCommit request, a write
 * to __consumer_offsets, per message or two, which was most of the broker's CPU per order. Here the runner tells
 * the committer each offset whose transaction has committed, and the committer sends them together: when
 * `threshold` offsets are waiting, when `intervalMs` has passed since the last commit (also when the partitions
 * went quiet, so lag reaches zero), and at once on stop and when the group rebalances.
 *
 * Never an offset before its transaction (the runner calls resolved() only after the commit). A crash loses at
 * most the offsets of the last interval: those records are delivered again and the inbox skips them.
 */
import type { Consumer } from "../kafka/kafka-types.ts";
import type { Logger } from "../logging/create-logger.ts";

export interface OffsetCommitterOptions {
  intervalMs: number;
  /** Offsets waiting that make the next resolved() commit at once. */
  threshold: number;
}

/** Sends one OffsetCommit request with these offsets (next offset to read per partition). */
export type CommitOffsets = (offsets: ReadonlyArray<{ topic: string; partition: number; offset: string }>) => Promise<void>;

interface Pending {
  topic: string;
  partition: number;
  /** The next offset to read (last applied + 1), as Kafka's committed offset means. */
  offset: string;
}

export class OffsetCommitter {
  private readonly pending = new Map<string, Pending>();
  private waiting = 0;
  private lastCommit = Date.now();
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly consumer: Pick<Consumer, "commitOffsets">,
    private readonly log: Logger,
    private readonly options: OffsetCommitterOptions,
  ) {}

  /** Starts the timer that commits what waits when no new record comes (so a quiet partition's lag reaches 0). */
  start(): void {
    this.timer ??= setInterval(() => {
      if (this.pending.size > 0 && Date.now() - this.lastCommit >= this.options.intervalMs) void this.flush();
    }, this.options.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** `offset` of topic/partition is applied and its transaction committed; commits now if enough waits. */
  async resolved(topic: string, partition: number, offset: string, count: number, via?: CommitOffsets): Promise<void> {
    this.pending.set(`${topic}:${partition}`, { topic, partition, offset: (BigInt(offset) + 1n).toString() });
    this.waiting += count;
    if (this.waiting >= this.options.threshold || Date.now() - this.lastCommit >= this.options.intervalMs) await this.flush(via);
  }

  /**
   * Commits everything waiting (one request), after any commit already under way. Never throws. `via` sends it
   * (inside a batch: through the batch's payload); the consumer's own commitOffsets otherwise.
   */
  flush(via?: CommitOffsets): Promise<void> {
    this.chain = this.chain.then(() => this.commitWaiting(via ?? ((offsets) => this.consumer.commitOffsets([...offsets]))));
    return this.chain;
  }

  private async commitWaiting(send: CommitOffsets): Promise<void> {
    if (this.pending.size === 0) return;
    const taken = [...this.pending.entries()];
    const count = this.waiting;
    this.pending.clear();
    this.waiting = 0;
    this.lastCommit = Date.now();
    try {
      await send(taken.map(([, p]) => p));
    } catch (error) {
      // Kept for the next commit unless a newer offset of the partition came meanwhile. A commit refused because
      // the group moved on only means those records are delivered once more, to whoever owns them now.
      for (const [key, p] of taken) if (!this.pending.has(key)) this.pending.set(key, p);
      this.waiting += count;
      this.log.warn({ err: error, partitions: taken.length }, "offset commit failed; kept for the next one");
    }
  }
}
