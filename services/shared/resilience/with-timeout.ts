/**
 * Resolves or rejects like `work`, or rejects with `onTimeout()` once `timeoutMs` has passed, whichever comes first.
 * The work itself is not cancelled (a promise cannot be): the caller only stops waiting for it. The timer is
 * always cleared, so a bounded call never keeps the process alive.
 */
export async function withTimeout<T>(work: Promise<T>, timeoutMs: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(onTimeout()), timeoutMs);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
