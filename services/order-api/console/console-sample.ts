/**
 * One point of the console's time series and how it is made from its sources. A value is null when its source
 * could not be read for that sample: the charts show a gap, never a false zero.
 */
import { CONSUMER_GROUPS, type ConsumerGroup } from "../../shared/events/topic-catalogue.ts";
import type { LagReport } from "../../shared/monitoring/lag-report.ts";
import { histogramQuantile, type CumulativeBuckets } from "./histogram-window.ts";
import type { OrderFlow } from "./order-flow.ts";

export interface ConsoleSample {
  /** Epoch milliseconds of the sample. */
  t: number;
  placedPerSecond: number | null;
  confirmedPerSecond: number | null;
  cancelledPerSecond: number | null;
  /** POST /orders p99 over the trailing window, this API process (null when it answered none). */
  acceptP99Ms: number | null;
  /** Placed -> CONFIRMED of the orders confirmed in the trailing window. */
  confirmedP50Ms: number | null;
  confirmedP99Ms: number | null;
  lag: Record<ConsumerGroup, number | null>;
  outboxBacklog: number | null;
  outboxOldestAgeSeconds: number | null;
  deadLetters: number | null;
  stuckOrders: number | null;
}

export interface SampleInputs {
  t: number;
  report: LagReport | undefined;
  flow: OrderFlow | undefined;
  /** Accept latency recorded over the trailing window. */
  accept: CumulativeBuckets | undefined;
}

const round = (value: number, digits: number): number => Math.round(value * 10 ** digits) / 10 ** digits;
const ms = (seconds: number | null): number | null => (seconds === null ? null : round(seconds * 1000, 1));

function perSecond(count: number, flow: OrderFlow): number {
  return flow.seconds > 0 ? round(count / flow.seconds, 2) : 0;
}

function lagOf(report: LagReport | undefined, kafkaOk: boolean): Record<ConsumerGroup, number | null> {
  const lag = {} as Record<ConsumerGroup, number | null>;
  for (const group of CONSUMER_GROUPS) lag[group] = kafkaOk ? (report?.groups.find((g) => g.group === group)?.totalLag ?? null) : null;
  return lag;
}

export function buildSample({ t, report, flow, accept }: SampleInputs): ConsoleSample {
  const failed = new Set(report?.errors.map((error) => error.source) ?? ["kafka", "database"]);
  const kafkaOk = report !== undefined && !failed.has("kafka");
  const databaseOk = report !== undefined && !failed.has("database");
  return {
    t,
    placedPerSecond: flow ? perSecond(flow.placed, flow) : null,
    confirmedPerSecond: flow ? perSecond(flow.confirmed, flow) : null,
    cancelledPerSecond: flow ? perSecond(flow.cancelled, flow) : null,
    acceptP99Ms: accept ? ms(histogramQuantile(accept, 0.99)) : null,
    confirmedP50Ms: flow ? ms(flow.confirmedP50Seconds) : null,
    confirmedP99Ms: flow ? ms(flow.confirmedP99Seconds) : null,
    lag: lagOf(report, kafkaOk),
    outboxBacklog: databaseOk ? report.outbox.unpublishedRows : null,
    outboxOldestAgeSeconds: databaseOk ? round(report.outbox.oldestAgeSeconds, 2) : null,
    deadLetters: kafkaOk ? report.deadLetters.reduce((sum, d) => sum + d.depth, 0) : null,
    stuckOrders: databaseOk ? report.stuckOrders.count : null,
  };
}
