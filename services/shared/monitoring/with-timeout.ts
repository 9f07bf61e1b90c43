/** A monitor source (Kafka, PostgreSQL) did not answer in time. */
export class MonitorTimeoutError extends Error {
  constructor(readonly source: string, readonly timeoutMs: number) {
    super(`${source} did not answer within ${timeoutMs} ms`);
    this.name = "MonitorTimeoutError";
  }
}

/** Rejects with MonitorTimeoutError after timeoutMs; the work itself keeps its own (client) timeouts. */
export async function withTimeout<T>(source: string, timeoutMs: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new MonitorTimeoutError(source, timeoutMs)), timeoutMs);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
