/**
 * How long the relay waits before its next claim. While rows flow it does not wait at all (full batches go back to
 * back) or only briefly (a partial batch: more will come soon); while the outbox stays empty the wait doubles up to
 * the poll interval, so an idle relay costs a cheap indexed query every RELAY_POLL_INTERVAL_MS and no insert trigger
 * is needed on the order API's commit path.
 */
export class AdaptivePoll {
  private idleMs: number;

  constructor(
    private readonly minMs: number,
    private readonly maxMs: number,
  ) {
    this.idleMs = minMs;
  }

  /** The wait after a claim that returned `claimed` rows of at most `batchSize`, `sent` of them published. */
  next(claimed: number, sent: number, batchSize: number): number {
    if (sent > 0) {
      this.idleMs = this.minMs;
      return claimed >= batchSize ? 0 : this.minMs;
    }
    const wait = this.idleMs;
    this.idleMs = Math.min(this.maxMs, this.idleMs * 2);
    return wait;
  }
}
