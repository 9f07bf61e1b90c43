import { CheckTimeoutError, type DependencyCheck } from "./dependency-checks.ts";

export type HealthStatus = "pass" | "warn" | "fail";

/** One entry of the draft-inadarei-api-health-check "checks" object. */
export interface CheckResult {
  componentType: DependencyCheck["componentType"];
  status: HealthStatus;
  observedValue: number;
  observedUnit: "ms";
  time: string;
  output?: string;
}

export interface HealthReport {
  status: HealthStatus;
  serviceId: string;
  description: string;
  checks: Record<string, CheckResult[]>;
}

async function runCheck(check: DependencyCheck, timeoutMs: number): Promise<CheckResult> {
  const startedAt = performance.now();
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      // Reject first: the aborted probe rejects too, and the report should say "timeout", not "aborted".
      reject(new CheckTimeoutError(timeoutMs));
      controller.abort();
    }, timeoutMs);
  });
  let output: string | undefined;
  try {
    await Promise.race([check.probe(controller.signal), timeout]);
  } catch (error) {
    output = describeFailure(error);
  } finally {
    clearTimeout(timer);
  }
  const failed = output !== undefined;
  return {
    componentType: check.componentType,
    status: failed ? (check.required ? "fail" : "warn") : "pass",
    observedValue: Math.round(performance.now() - startedAt),
    observedUnit: "ms",
    time: new Date().toISOString(),
    ...(failed ? { output } : {}),
  };
}

/** A short reason without internals (no stack, no connection string). */
function describeFailure(error: unknown): string {
  if (error instanceof AggregateError) return error.errors.map(describeFailure).join("; ");
  const code = (error as { code?: unknown } | null)?.code;
  if (error instanceof CheckTimeoutError) return error.message;
  return typeof code === "string" ? code : error instanceof Error ? error.name : "unreachable";
}

function overall(results: CheckResult[]): HealthStatus {
  if (results.some((result) => result.status === "fail")) return "fail";
  return results.some((result) => result.status === "warn") ? "warn" : "pass";
}

/** Runs every check in parallel, each bounded by `timeoutMs`. */
export async function checkReadiness(serviceId: string, checks: readonly DependencyCheck[], timeoutMs: number): Promise<HealthReport> {
  const results = await Promise.all(checks.map((check) => runCheck(check, timeoutMs)));
  const report: HealthReport = { status: overall(results), serviceId, description: "Orderflow order API", checks: {} };
  checks.forEach((check, index) => {
    report.checks[check.name] = [results[index]!];
  });
  return report;
}
