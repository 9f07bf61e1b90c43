/**
 * When a consumer has stopped making progress for good and must be started afresh.
 *
 * A fetch asks the broker to answer within CONSUMER_MAX_WAIT_MS (milliseconds), so a fetch that times out (the
 * request timeout, seconds) means the link or the broker is broken. The first timeout resets the connection
 * (services/shared/kafka/broker-sockets.ts). Seen under chaos (a half-open link after connection resets): kafkajs
 * can stay wedged after that, every fetch timing out on fresh connections too while other clients of the same
 * broker work, and its own consumer restarts do not clear it. A process restart does, so after `limit` fetch
 * timeouts in a row with no answered fetch between, the runner reports the consumer as fatally stalled (the
 * service shuts down gracefully and its supervisor starts it again). No offset is lost: uncommitted records are
 * fetched again by the next owner and the inbox drops the ones already applied.
 */
import { defineError } from "../errors/coded-error.ts";

export const ConsumerStalledError = defineError({
  code: "CONSUMER_STALLED",
  status: 503,
  title: "The consumer's fetches keep timing out, even on new connections; it must be restarted",
  canRetry: true,
});

/** Fetch timeouts in a row before the consumer is given up on: the first one already reset the connection. */
export const FETCH_TIMEOUTS_BEFORE_RESTART = 3;

export class FetchStall {
  private consecutive = 0;

  constructor(private readonly limit = FETCH_TIMEOUTS_BEFORE_RESTART) {}

  /** A fetch was answered (with records or without): the consumer is alive. */
  answered(): void {
    this.consecutive = 0;
  }

  /** A fetch timed out; true once `limit` did in a row. */
  timedOut(): boolean {
    this.consecutive += 1;
    return this.consecutive >= this.limit;
  }
}
