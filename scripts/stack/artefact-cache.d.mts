// Types of artefact-cache.mjs (plain JavaScript: it runs before node_modules, and so TypeScript, exists).

export declare const REGISTRY_VERSION: string;
export declare const REGISTRY_ARTIFACT: string;
export declare const CACHED_COMPONENTS: readonly string[];

export declare class CommandError extends Error {
  constructor(message: string, logFile?: string, hint?: string);
  readonly logFile: string | undefined;
  readonly hint: string | undefined;
}

export interface Artefact {
  /** The stack component it belongs to ("jaeger"). */
  readonly component: string;
  /** Progress text ("resolving Kafka jars from Maven Central ..."). */
  readonly what: string;
  /** The cache entry: complete or absent. */
  readonly dir: string;
  readonly logFile: string;
}

export interface EnsureOptions {
  signal?: AbortSignal;
  /** Told once when another process holds the entry's lock and we wait for it. */
  onWait?: (pid: number) => void;
  timeoutMs?: number;
}

export interface RunLoggedOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  logFile: string;
  timeoutMs: number;
  signal?: AbortSignal;
  /** How errors name the command; default: the command and its first three arguments. */
  label?: string;
  /** The likely fix, carried by the CommandError. */
  hint?: string;
}

export declare function stackRoot(repo: string, env?: NodeJS.ProcessEnv): string;
export declare function cacheRoot(env?: NodeJS.ProcessEnv): string;
export declare function runLogged(command: string, args: string[], options: RunLoggedOptions): Promise<void>;
export declare function findGo(env?: NodeJS.ProcessEnv): string;
export declare function artefactFor(component: string, repo: string, env?: NodeJS.ProcessEnv): Artefact;
export declare function nodeModulesArtefact(repo: string, env?: NodeJS.ProcessEnv): Artefact;
export declare function ensureArtefact(artefact: Artefact, options?: EnsureOptions): Promise<string>;
export declare function isComplete(artefact: Artefact): boolean;
export declare function linkTo(link: string, target: string): boolean;
