import type { PrismaClient } from "../../../services/shared/db/index.ts";
import type { Kafka } from "../../../services/shared/kafka/kafka-types.ts";
import { buildLagReport, type LagReport } from "../../../services/shared/monitoring/lag-report.ts";
import { PeakMemory, type WatchedProcess } from "./process-set.ts";

export interface PipelineSample {
  atMs: number;
  /** Consumer lag summed over every group and partition (as GET /monitor/lag computes it). */
  totalLag: number;
  lagByGroup: Record<string, number>;
  /** Outbox rows not yet published (and not given up on). */
  backlog: number;
  /** Log end offsets summed over every group's partitions: deliveries owed so far (a record counts once per group). */
  deliveriesOwed: number;
  /** Log end offsets summed over the distinct event partitions: records published so far. */
  recordsPublished: number;
  deadLetters: number;
  /** A source that did not answer: the sample's numbers for it are not true. */
  errors: string[];
}

export interface QueueReader {
  read(): Promise<PipelineSample>;
}

function offsetTotals(report: LagReport): Pick<PipelineSample, "deliveriesOwed" | "recordsPublished"> {
  const ends = new Map<string, number>();
  let deliveriesOwed = 0;
  for (const group of report.groups) {
    for (const partition of group.partitions) {
      deliveriesOwed += partition.logEndOffset;
      ends.set(`${partition.topic}:${partition.partition}`, partition.logEndOffset);
    }
  }
  return { deliveriesOwed, recordsPublished: [...ends.values()].reduce((sum, end) => sum + end, 0) };
}

/** The same report as GET /monitor/lag, read from outside the API (its own Kafka client and database connection). */
export function lagReportReader(kafka: Kafka, prisma: PrismaClient, topicPrefix: string): QueueReader {
  return {
    async read() {
      const report: LagReport = await buildLagReport({
        kafka,
        prisma,
        config: { TOPIC_PREFIX: topicPrefix, MONITOR_STUCK_AFTER_SECONDS: 3600 },
        stuckLimit: 1,
      });
      return {
        atMs: Date.now(),
        totalLag: report.totalLag,
        lagByGroup: Object.fromEntries(report.groups.map((group) => [group.group, group.totalLag])),
        backlog: report.outbox.unpublishedRows,
        ...offsetTotals(report),
        deadLetters: report.deadLetters.reduce((sum, topic) => sum + topic.depth, 0),
        errors: report.errors.map((error) => `${error.source}: ${error.message}`),
      };
    },
  };
}

/** Reads lag, backlog and each process' memory once per interval (a reading never overlaps the previous one). */
export class PipelineSampler {
  readonly samples: PipelineSample[] = [];
  readonly memory = new PeakMemory();
  private timer: NodeJS.Timeout | undefined;
  private busy = false;

  constructor(
    private readonly reader: QueueReader,
    private readonly processes: () => WatchedProcess[],
    private readonly intervalMs = 1_000,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
  }

  private async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      this.memory.record(this.processes());
      this.samples.push(await this.reader.read());
    } catch {
      // A failed reading is a gap in the series, not the end of the run; flatness needs samples and says so.
    } finally {
      this.busy = false;
    }
  }

  between(fromMs: number, toMs: number): PipelineSample[] {
    return this.samples.filter((sample) => sample.atMs >= fromMs && sample.atMs <= toMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
