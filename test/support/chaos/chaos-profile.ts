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
    name: "short", rate: 8, settleMs: 2_500, brokerDownMs: 6_000, postgresDownMs: 4_000, freezeMs: 4_000,
    providerDownMs: 5_000, providerSlowMs: 5_000, registryDownMs: 4_000, jaegerDownMs: 4_000, networkFaultMs: 6_000,
    stormMs: 12_000, stormEveryMs: 3_000, recoverTimeoutMs: 120_000,
  },
  long: {
    name: "long", rate: 10, settleMs: 5_000, brokerDownMs: 30_000, postgresDownMs: 10_000, freezeMs: 60_000,
    providerDownMs: 60_000, providerSlowMs: 60_000, registryDownMs: 30_000, jaegerDownMs: 30_000, networkFaultMs: 30_000,
    stormMs: 60_000, stormEveryMs: 4_000, recoverTimeoutMs: 300_000,
  },
};

export function chaosProfile(env: NodeJS.ProcessEnv = process.env): ChaosProfile {
  const name = env.CHAOS_PROFILE || "short";
  if (name !== "short" && name !== "long") throw new Error(`CHAOS_PROFILE must be short or long, got "${name}"`);
  return PROFILES[name];
}

/** The scenarios of `known` that CHAOS_SCENARIOS asks for (all by default; a name another chaos file knows is left to it). */
export function selectedScenarios(known: readonly string[], env: NodeJS.ProcessEnv = process.env): string[] {
  const asked = (env.CHAOS_SCENARIOS || "all").split(",").map((name) => name.trim()).filter(Boolean);
  if (asked.includes("all")) return [...known];
  return known.filter((name) => asked.includes(name));
}
