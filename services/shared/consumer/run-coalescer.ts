/**
 * Group commit for the runner's transactions. kafkajs hands the batches of one fetch (one per partition) to
 * several workers at once; at low and moderate rates each is a run of one or two records, and one transaction per
 * run costs BEGIN + inbox + effects + outbox + COMMIT round trips for a single message. Runs that are ready at about
 * the same time are applied in ONE transaction instead: each run's records stay in offset order and stay together
 * (per-key order holds: a key lives on one partition, and a partition is never in two runs at once), and each run
 * learns its own outcomes only after that transaction committed (the runner resolves offsets after it).
 *
 * One transaction is in flight at a time per runner; runs that become ready meanwhile queue for the next one. A
 * queue is applied as soon as no other run is still being prepared (decoded, outside calls), or after lingerMs,
 * whichever comes first, so a run never waits for a slow outside call of another partition for longer than that.
 *
 * A merged transaction that fails is retried run by run, each in its own transaction: only the run that fails
 * alone sees the error (the runner then takes its careful, record-by-record path). One poison run therefore never
 * costs the other runs more than one more transaction.
 */

export interface CoalescerOptions {
  /** Longest a ready run waits for runs still being prepared before its transaction starts. */
  lingerMs: number;
  /** Most records in one merged transaction (a single run larger than this still goes alone). */
  maxRecords: number;
}

/** A run being prepared: submit its records once they are ready, or leave when it has nothing to apply. */
export interface CoalescerTicket<T, R> {
  submit(items: readonly T[]): Promise<R[]>;
  /** Idempotent; submit leaves by itself. */
  leave(): void;
}

interface Submission<T, R> {
  items: readonly T[];
  resolve: (results: R[]) => void;
  reject: (error: unknown) => void;
}

export class RunCoalescer<T, R> {
  private preparing = 0;
  private readonly queue: Array<Submission<T, R>> = [];
  private queuedRecords = 0;
  private inFlight = false;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;

  /** `apply` applies items in one transaction and returns one result per item, in order. */
  constructor(
    private readonly apply: (items: readonly T[]) => Promise<R[]>,
    private readonly options: CoalescerOptions,
  ) {}

  /** Call when a run starts being prepared: while it is, other ready runs wait for it (at most lingerMs). */
  enter(): CoalescerTicket<T, R> {
    this.preparing += 1;
    let left = false;
    const leave = (): void => {
      if (left) return;
      left = true;
      this.preparing -= 1;
      this.schedule();
    };
    const submit = (items: readonly T[]): Promise<R[]> => {
      const done = new Promise<R[]>((resolve, reject) => this.queue.push({ items, resolve, reject }));
      this.queuedRecords += items.length;
      leave();
      return done;
    };
    return { submit, leave };
  }

  private schedule(): void {
    if (this.inFlight || this.queue.length === 0) return;
    if (this.queuedRecords >= this.options.maxRecords) {
      void this.flush();
      return;
    }
    if (this.preparing === 0) {
      // Next turn of the event loop, not now: kafkajs starts its workers one after the other, and the runs of the
      // same fetch that are about to enter should share this transaction.
      this.immediate ??= setImmediate(() => {
        this.immediate = undefined;
        void this.flush();
      });
      return;
    }
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.options.lingerMs);
  }

  private takeBatch(): Array<Submission<T, R>> {
    const taken: Array<Submission<T, R>> = [];
    let records = 0;
    while (this.queue.length > 0 && (taken.length === 0 || records + this.queue[0]!.items.length <= this.options.maxRecords)) {
      const next = this.queue.shift()!;
      records += next.items.length;
      taken.push(next);
    }
    this.queuedRecords -= records;
    return taken;
  }

  private async flush(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.immediate = undefined;
    if (this.inFlight || this.queue.length === 0) return;
    this.inFlight = true;
    try {
      await this.applyTogether(this.takeBatch());
    } finally {
      this.inFlight = false;
      this.schedule();
    }
  }

  private async applyTogether(runs: ReadonlyArray<Submission<T, R>>): Promise<void> {
    if (runs.length > 1) {
      try {
        const results = await this.apply(runs.flatMap((run) => run.items));
        let at = 0;
        for (const run of runs) {
          run.resolve(results.slice(at, at + run.items.length));
          at += run.items.length;
        }
        return;
      } catch {
        // Which run failed is not known: each goes alone, and only a run that fails alone gets the error.
      }
    }
    for (const run of runs) {
      try {
        run.resolve(await this.apply(run.items));
      } catch (error) {
        run.reject(error);
      }
    }
  }
}
