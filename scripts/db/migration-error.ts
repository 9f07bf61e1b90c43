/** A migration step failed; names the migration (when known) and carries the engine's or driver's message. */
export class MigrationError extends Error {
  readonly migration: string | undefined;
  constructor(message: string, options: { migration?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = "MigrationError";
    this.migration = options.migration;
  }
}
