/** A stack step that failed: names the component, where its log is and the most likely fix. */
export class StackError extends Error {
  readonly component: string;
  readonly logFile: string | undefined;
  readonly hint: string | undefined;

  constructor(component: string, message: string, options: { logFile?: string; hint?: string; cause?: unknown } = {}) {
    super(`[${component}] ${message}`, { cause: options.cause });
    this.name = "StackError";
    this.component = component;
    this.logFile = options.logFile;
    this.hint = options.hint;
  }

  /** Multi-line text for a person: what failed, the log to read, the likely fix. */
  explain(): string {
    const lines = [this.message];
    if (this.logFile) lines.push(`  log:  ${this.logFile}`);
    if (this.hint) lines.push(`  fix:  ${this.hint}`);
    return lines.join("\n");
  }
}
