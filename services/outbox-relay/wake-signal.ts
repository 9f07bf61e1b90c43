/** Lets the relay sleep until its next poll, a NOTIFY wake-up or shutdown, whichever comes first. */
export class WakeSignal {
  private pending: (() => void) | undefined;
  private woken = false;

  wake(): void {
    this.woken = true;
    this.pending?.();
  }

  /** Resolves after `ms` or at the next wake(); a wake() that arrived while busy ends the next wait at once. */
  wait(ms: number): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.pending = undefined;
        this.woken = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.pending = done;
    });
  }
}
