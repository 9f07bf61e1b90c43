/** A monitor source (Kafka, PostgreSQL) did not answer in time. */
export class MonitorTimeoutError extends Error {
  constructor(
    readonly source: string,
    readonly timeoutMs: number,
  ) {
    super(`${source} did not answer within ${timeoutMs} ms`);
    this.name = "MonitorTimeoutError";
  }
}
