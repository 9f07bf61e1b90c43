/**
 * How long each fault lasts. `short` (the default, what `npm test` runs) keeps the whole chaos tier within a few
 * minutes on a 2-core machine; `long` (CHAOS_PROFILE=long, `npm run chaos -- --long all`) uses the durations the
 * fault suite was specified with: broker unreachable 30 s, a process frozen 60 s, the payment provider down 60 s and
 * slow 60 s. Which scenarios run: CHAOS_SCENARIOS (comma-separated names, or "all", the default).
 */
export interface ChaosProfile {
  name: "short" | "long";
  /** Orders per second of the open-loop load. */
  rate: number;
  /** Instances per consumer group: 2 gives a killed or frozen one a partner that takes its partitions over. */
  consumerInstances: number;
  /** Load before the fault and after it heals, ms. */
  settleMs: number;
  brokerDownMs: number;
  postgresDownMs: number;
  /** SIGSTOP to SIGCONT. */
  freezeMs: number;
  providerDownMs: number;
  providerSlowMs: number;
  registryDownMs: number;
  jaegerDownMs: number;
  networkFaultMs: number;
  stormMs: number;
  /** A join or a leave this often during the storm. */
  stormEveryMs: number;
  /** Bound on the wait for every order to finish once the fault healed. */
  recoverTimeoutMs: number;
}

const PROFILES: Record<ChaosProfile["name"], ChaosProfile> = {
  short: {
    name: "short",
    rate: 8,
    consumerInstances: 1,
    settleMs: 2_000,
    brokerDownMs: 6_000,
    postgresDownMs: 4_000,
    freezeMs: 4_000,
    providerDownMs: 4_000,
    providerSlowMs: 4_000,
    registryDownMs: 4_000,
    jaegerDownMs: 4_000,
    networkFaultMs: 4_500,
    stormMs: 9_000,
    stormEveryMs: 3_000,
    recoverTimeoutMs: 120_000,
  },
  long: {
    name: "long",
    rate: 10,
    consumerInstances: 2,
    settleMs: 5_000,
    brokerDownMs: 30_000,
    postgresDownMs: 10_000,
    freezeMs: 60_000,
    providerDownMs: 60_000,
    providerSlowMs: 60_000,
    registryDownMs: 30_000,
    jaegerDownMs: 30_000,
    networkFaultMs: 30_000,
    stormMs: 60_000,
    stormEveryMs: 4_000,
    recoverTimeoutMs: 300_000,
  },
};

export function chaosProfile(env: NodeJS.ProcessEnv = process.env): ChaosProfile {
  const name = env.CHAOS_PROFILE || "short";
  if (name !== "short" && name !== "long") throw new Error(`CHAOS_PROFILE must be short or long, got "${name}"`);
  return PROFILES[name];
}

/**
 * The scenarios of `known` that CHAOS_SCENARIOS asks for; "all" (the default) means `all`, the profile's set when
 * it differs (the short profile folds some scenarios into one). A name another chaos file knows is left to it.
 */
export function selectedScenarios(known: readonly string[], all: readonly string[] = known, env: NodeJS.ProcessEnv = process.env): string[] {
  const asked = (env.CHAOS_SCENARIOS || "all")
    .split(",")
    .map((name) => name.trim())
    .filter(Boolean);
  return known.filter((name) => asked.includes(name) || (asked.includes("all") && all.includes(name)));
}
