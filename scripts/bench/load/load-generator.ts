import { fork, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { LoadJob, LoadResult } from "./open-loop.ts";

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), "generator-process.ts");

type Reply = { type: "ready" } | { type: "result"; result: LoadResult } | { type: "error"; message: string };

/** A forked open-loop generator: run() one job at a time; pid for its CPU in /proc; close() ends it. */
export class LoadGenerator {
  private constructor(private readonly child: ChildProcess) {}

  static async start(): Promise<LoadGenerator> {
    const child = fork(SCRIPT, [], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("the load generator did not start within 30 s")), 30_000);
      child.once("message", () => {
        clearTimeout(timer);
        resolve();
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`the load generator exited during start (${code})`));
      });
    });
    return new LoadGenerator(child);
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  run(job: LoadJob): Promise<LoadResult> {
    // Bounded: every request has its own timeout, so the job ends by seconds + timeout (+ margin for a starved host).
    const boundMs = (job.seconds * 2 + job.timeoutMs / 1000 + 60) * 1000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the load generator gave no result within ${boundMs / 1000} s`)), boundMs);
      const onExit = (code: number | null) => {
        clearTimeout(timer);
        reject(new Error(`the load generator exited (${code}) during a run`));
      };
      this.child.once("exit", onExit);
      const onMessage = (reply: Reply) => {
        if (reply.type === "ready") return;
        clearTimeout(timer);
        this.child.off("exit", onExit);
        this.child.off("message", onMessage);
        if (reply.type === "result") resolve(reply.result);
        else reject(new Error(`load generator: ${reply.message}`));
      };
      this.child.on("message", onMessage);
      this.child.send({ type: "run", job });
    });
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.child.disconnect();
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
  }
}
