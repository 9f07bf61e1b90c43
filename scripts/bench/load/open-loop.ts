import http from "node:http";
import { dueCount, msUntilNext, scheduleFor, intendedOffsetMs } from "./arrival-schedule.ts";
import { jsonSafe, summarizeLatencies, type LatencySummary } from "./latency-summary.ts";

export interface LoadJob {
  /** Base URL, e.g. http://127.0.0.1:3010 */
  url: string;
  path: string;
  method: "POST" | "GET";
  /** Request bodies, used round-robin (made up front so the generator spends no CPU on them while firing). */
  bodies: string[];
  headers: Record<string, string>;
  rate: number;
  seconds: number;
  /** A request still unanswered this long after it was fired is abandoned and counts as a timeout. */
  timeoutMs: number;
  /** Keep-alive connections at most; a request finding all busy waits in the agent, and that wait is latency. */
  maxSockets: number;
  /** Also return what each answer said (accepted order ids, Retry-After on 503s, latency per second): the overload check. */
  record?: boolean;
}

/** What the answers said, kept only for a job with `record` set. */
export interface AnswerRecord {
  /** Order ids from the Location header of every 2xx answer. */
  acceptedIds: string[];
  /** 503 answers, and how many of them carried Retry-After. */
  shed503: number;
  shed503WithRetryAfter: number;
  /** [latency p99 ms, answers] of the requests due in each second of the job, in order. */
  perSecondP99: Array<[number | null, number]>;
}

export interface LoadResult {
  targetRate: number;
  seconds: number;
  sent: number;
  /** Requests sent per second of the firing window (below the target: the generator could not keep up). */
  achievedRate: number;
  statusCounts: Record<string, number>;
  ok2xx: number;
  non2xx: number;
  /** Connection errors and timeouts (no HTTP status). */
  errors: number;
  timeouts: number;
  /** From each request's intended send time to its response (or error). */
  latencyMs: Record<keyof LatencySummary, number | null>;
  /** How late the generator fired, behind the intended time: large values mean the generator was starved. */
  fireLatenessMs: { p99: number | null; max: number | null };
  /** The generator process' own CPU over the job (user + system). */
  cpuSeconds: number;
  /** Wall clock of the job, first fire to last answer. */
  wallSeconds: number;
  /** Date.now() at the intended start and at the last answer, for lining up with database timestamps. */
  startedAtMs: number;
  endedAtMs: number;
  answers?: AnswerRecord;
}

interface Outcome {
  status: number | "error" | "timeout";
  doneAt: number;
  location?: string | undefined;
  retryAfter?: boolean;
}

function fire(agent: http.Agent, job: LoadJob, target: URL, body: string): Promise<Outcome> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (status: Outcome["status"], response?: http.IncomingMessage) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const doneAt = performance.now();
      resolve(
        response ? { status, doneAt, location: response.headers.location, retryAfter: response.headers["retry-after"] !== undefined } : { status, doneAt },
      );
    };
    const payload = Buffer.from(body);
    const request = http.request(
      {
        agent,
        host: target.hostname,
        port: target.port,
        path: job.path,
        method: job.method,
        headers: { ...job.headers, "content-length": String(payload.length) },
      },
      (response) => {
        response.resume(); // the body is not needed; draining it frees the socket for the next request
        response.on("end", () => settle(response.statusCode ?? "error", response));
        response.on("error", () => settle("error"));
      },
    );
    // A deadline on the whole exchange (waiting for a socket included), not the socket's idle timeout.
    const timer = setTimeout(() => {
      settle("timeout");
      request.destroy();
    }, job.timeoutMs);
    request.on("error", () => settle("error"));
    request.end(payload);
  });
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Fires job.rate requests per second for job.seconds at their intended times and waits for every answer. */
export async function runOpenLoop(job: LoadJob): Promise<LoadResult> {
  const schedule = scheduleFor(job.rate, job.seconds);
  const target = new URL(job.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: job.maxSockets, maxFreeSockets: job.maxSockets });
  const latencies = new Float64Array(schedule.total);
  const lateness = new Float64Array(schedule.total);
  const statusCounts: Record<string, number> = {};
  const recorder = job.record ? new AnswerRecorder() : undefined;
  const pending: Array<Promise<void>> = [];
  const cpuBefore = process.cpuUsage();
  const startedAtMs = Date.now();
  const start = performance.now();
  let sent = 0;
  let lastFire = start;
  for (;;) {
    const elapsed = performance.now() - start;
    const due = dueCount(schedule, elapsed);
    for (; sent < due; sent += 1) {
      const index = sent;
      const intended = start + intendedOffsetMs(schedule, index);
      lastFire = performance.now();
      lateness[index] = lastFire - intended;
      pending.push(
        fire(agent, job, target, job.bodies[index % job.bodies.length]!).then((outcome) => {
          latencies[index] = outcome.doneAt - intended;
          const key = String(outcome.status);
          statusCounts[key] = (statusCounts[key] ?? 0) + 1;
          recorder?.add(outcome);
        }),
      );
    }
    const wait = msUntilNext(schedule, sent, performance.now() - start);
    if (wait === undefined) break;
    await sleep(Math.max(0, Math.floor(wait)));
  }
  await Promise.all(pending);
  const end = performance.now();
  agent.destroy();
  const cpu = process.cpuUsage(cpuBefore);
  const ok2xx = Object.entries(statusCounts).reduce((n, [status, count]) => (/^2\d\d$/.test(status) ? n + count : n), 0);
  const errors = (statusCounts.error ?? 0) + (statusCounts.timeout ?? 0);
  const late = summarizeLatencies(lateness);
  const firingSeconds = Math.max((lastFire - start) / 1000, 1 / job.rate);
  return {
    targetRate: job.rate,
    seconds: job.seconds,
    sent,
    achievedRate: Math.round((sent > 1 ? (sent - 1) / firingSeconds : sent / job.seconds) * 10) / 10,
    statusCounts,
    ok2xx,
    non2xx: sent - ok2xx - errors,
    errors,
    timeouts: statusCounts.timeout ?? 0,
    latencyMs: jsonSafe(summarizeLatencies(latencies)),
    fireLatenessMs: { p99: Number.isFinite(late.p99) ? late.p99 : null, max: Number.isFinite(late.max) ? late.max : null },
    cpuSeconds: Math.round(((cpu.user + cpu.system) / 1e6) * 1000) / 1000,
    wallSeconds: Math.round((end - start) / 10) / 100,
    startedAtMs,
    endedAtMs: startedAtMs + Math.round(end - start),
    ...(recorder ? { answers: recorder.result(latencies, (index) => Math.floor(intendedOffsetMs(schedule, index) / 1000)) } : {}),
  };
}

class AnswerRecorder {
  private readonly acceptedIds: string[] = [];
  private shed503 = 0;
  private shed503WithRetryAfter = 0;

  add(outcome: Outcome): void {
    if (typeof outcome.status !== "number") return;
    if (outcome.status >= 200 && outcome.status < 300 && outcome.location) this.acceptedIds.push(outcome.location.split("/").pop()!);
    if (outcome.status === 503) {
      this.shed503 += 1;
      if (outcome.retryAfter) this.shed503WithRetryAfter += 1;
    }
  }

  result(latencies: Float64Array, secondOf: (index: number) => number): AnswerRecord {
    const buckets: number[][] = [];
    latencies.forEach((latency, index) => (buckets[secondOf(index)] ??= []).push(latency));
    const perSecondP99 = Array.from(buckets, (bucket = []): [number | null, number] => [jsonSafe(summarizeLatencies(bucket)).p99, bucket.length]);
    return { acceptedIds: this.acceptedIds, shed503: this.shed503, shed503WithRetryAfter: this.shed503WithRetryAfter, perSecondP99 };
  }
}
