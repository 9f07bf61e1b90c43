/**
 * The fault suite on the single-broker stack: each scenario keeps an open-loop load of orders running through
 * every service, injects one fault, waits (bounded) for the pipeline to catch up and ends with the audit, which
 * must be green: no accepted order lost, no effect applied twice, no key's events out of order. The shared broker
 * and PostgreSQL are never stopped: the services reach PostgreSQL, Kafka (a broker of this file's own), the
 * registry and Jaeger through TCP proxies, and the faults are cut there (test/support/chaos-kit.ts).
 * CHAOS_PROFILE=long uses the specified durations; CHAOS_SCENARIOS picks scenarios (npm run chaos -- <name>).
 */
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  chaosProfile,
  reportTable,
  selectedScenarios,
  startPipeline,
  type ChaosPipeline,
  type ChaosProfile,
  type ScenarioRow,
  type TcpProxy,
} from "../support/chaos-kit.ts";
import { pollUntil, type ConsumerService } from "../support/pipeline.ts";

const GROUPS: readonly ConsumerService[] = ["inventory", "payment", "order-state", "notification"];

interface Scenario {
  name: string;
  what: string;
  /** Profiles whose "all" includes it (both by default). */
  profiles?: ReadonlyArray<ChaosProfile["name"]>;
  /** How long the fault lasts, from the profile. */
  faultMs: (chaos: ChaosPipeline) => number;
  inject: (chaos: ChaosPipeline) => Promise<void>;
}

/** Cuts a proxy for `ms`, then heals it; fails if no service connection was there to cut (the fault missed). */
async function cutFor(proxy: TcpProxy | undefined, ms: number): Promise<void> {
  if (!proxy) throw new Error("no proxy in front of this dependency");
  const before = proxy.stats.resets;
  proxy.cut();
  try {
    await sleep(ms);
  } finally {
    proxy.heal();
  }
  if (proxy.stats.resets === before) throw new Error(`the cut reset no connection: nothing used the proxy on port ${proxy.port}`);
}

/** How long a fault is held, at most, waiting for it to reach a service before the scenario fails as "missed". */
const BITE_TIMEOUT_MS = 60_000;

/**
 * Waits (bounded) until one of `instances` logged `msg`: the fault really reached the service. The fault's own
 * duration starts then, so a slow machine (a consumer still joining its group) stretches the fault, not the check.
 */
async function waitUntilLogged(instances: ReadonlyArray<{ lines: Array<Record<string, unknown>>; label: string }>, msg: string): Promise<void> {
  const logged = async (): Promise<true | undefined> => (instances.some((instance) => instance.lines.some((line) => line.msg === msg)) ? true : undefined);
  await pollUntil(logged, BITE_TIMEOUT_MS, `the fault to bite: one of ${instances.map((i) => i.label).join(", ")} logging "${msg}"`, 100);
}

/** Waits (bounded) until the watchdog has restarted what was killed. */
async function waitForInstances(chaos: ChaosPipeline, service: ConsumerService | "outbox-relay"): Promise<void> {
  const count = chaos.instanceCount(service);
  await pollUntil(
    async () => (chaos.pipeline.instances(service).length >= count ? true : undefined),
    120_000,
    `${count} ${service} instance(s) running again`,
    200,
  );
}

const SCENARIOS: readonly Scenario[] = [
  {
    name: "relay-kill",
    what: "outbox relay SIGKILLed mid-batch, restarted as npm start restarts it",
    faultMs: () => 3_000,
    inject: async (chaos) => {
      await chaos.kill("outbox-relay");
      await waitForInstances(chaos, "outbox-relay");
    },
  },
  {
    name: "relay-freeze",
    what: "outbox relay SIGSTOPped mid-batch, then SIGCONT",
    faultMs: (chaos) => chaos.profile.freezeMs,
    inject: (chaos) => chaos.freeze("outbox-relay", chaos.profile.freezeMs),
  },
  {
    name: "consumers",
    what: "one consumer of every group SIGKILLed mid-batch (restarted), then one of every group SIGSTOPped and resumed",
    profiles: ["short"],
    faultMs: (chaos) => chaos.profile.freezeMs + 3_000,
    inject: async (chaos) => {
      await Promise.all(GROUPS.map((group) => chaos.kill(group, 0)));
      await Promise.all(GROUPS.map((group) => waitForInstances(chaos, group)));
      await Promise.all(GROUPS.map((group) => chaos.freeze(group, chaos.profile.freezeMs, 0)));
    },
  },
  ...GROUPS.map<Scenario>((group) => ({
    name: `consumer-${group}`,
    profiles: ["long"],
    what: `one of two ${group} consumers SIGKILLed mid-batch (restarted), then one SIGSTOPped and resumed`,
    faultMs: (chaos) => chaos.profile.freezeMs + 3_000,
    inject: async (chaos) => {
      await chaos.kill(group, 0);
      await waitForInstances(chaos, group);
      await chaos.freeze(group, chaos.profile.freezeMs, 0);
    },
  })),
  {
    name: "broker-unreachable",
    what: "every connection to Kafka reset and refused",
    faultMs: (chaos) => chaos.profile.brokerDownMs,
    inject: (chaos) => cutFor(chaos.proxies.kafka, chaos.profile.brokerDownMs),
  },
  {
    name: "postgres-restart",
    what: "PostgreSQL crashed (pg_ctl stop -m immediate) mid-load, started again (crash recovery)",
    faultMs: (chaos) => chaos.profile.postgresDownMs,
    inject: async (chaos) => {
      if (chaos.proxies.postgres.openConnections === 0) throw new Error("the fault would not bite: no service holds a PostgreSQL session");
      await chaos.restartPostgres(chaos.profile.postgresDownMs);
    },
  },
  {
    name: "registry-down",
    what: "schema registry unreachable, and an inventory consumer restarted meanwhile (it must fetch schemas)",
    faultMs: (chaos) => chaos.profile.registryDownMs,
    inject: async (chaos) => {
      const registry = chaos.proxies.registry;
      registry.cut();
      const refusedBefore = registry.stats.resets;
      try {
        await chaos.kill("inventory", 0);
        // The restarted instance has no schema cached: the first record it is given needs the registry. It asks
        // only once it has joined its group and fetched, which on a loaded machine can take longer than the fault.
        await waitForInstances(chaos, "inventory");
        const refused = async (): Promise<true | undefined> => (registry.stats.resets > refusedBefore ? true : undefined);
        await pollUntil(refused, BITE_TIMEOUT_MS, "the fault to bite: a service asking the registry while it is down", 100);
        await sleep(chaos.profile.registryDownMs);
      } finally {
        registry.heal();
      }
    },
  },
  {
    name: "jaeger-down",
    what: "Jaeger's OTLP port unreachable: tracing must neither break nor stall anything",
    faultMs: (chaos) => chaos.profile.jaegerDownMs,
    inject: (chaos) => cutFor(chaos.proxies.otlp, chaos.profile.jaegerDownMs),
  },
  {
    name: "payment-provider",
    what: "the simulated provider failing every call, then answering in 1-3 s (PAYMENT_LATENCY_MS 2000)",
    faultMs: (chaos) => chaos.profile.providerDownMs + chaos.profile.providerSlowMs,
    inject: async (chaos) => {
      // The fault is undone however the scenario ends: left in place, a failing provider would strand the orders
      // of every later scenario and hide which one really failed.
      try {
        const down = await chaos.replaceWith("payment", { PAYMENT_TRANSIENT_ERROR_RATE: "1" });
        await waitUntilLogged(down, "dependency unavailable: partition paused");
        await sleep(chaos.profile.providerDownMs);
        const slow = await chaos.replaceWith("payment", { PAYMENT_LATENCY_MS: "2000" });
        await waitUntilLogged(slow, "payment authorization answered");
        await sleep(chaos.profile.providerSlowMs);
      } finally {
        await chaos.replaceWith("payment", {});
      }
    },
  },
  {
    name: "network-faults",
    what: "20 ms each way to PostgreSQL and Kafka, every connection reset twice meanwhile, then every Kafka connection silent (half-open)",
    faultMs: (chaos) => chaos.profile.networkFaultMs,
    inject: async (chaos) => {
      const links = [chaos.proxies.postgres, chaos.proxies.kafka].filter((p) => p !== undefined);
      for (const link of links) link.setLatency(20);
      try {
        for (let reset = 0; reset < 2; reset += 1) {
          await sleep(chaos.profile.networkFaultMs / 3);
          for (const link of links) link.resetAll();
        }
        // A link that drops everything without closing (a NAT entry gone): only a request timeout notices it.
        // After the resets the services reconnect (lazily, on their next request): silence the links they opened.
        const kafka = chaos.proxies.kafka;
        if (kafka) {
          const reconnected = async (): Promise<true | undefined> => (kafka.openConnections > 0 ? true : undefined);
          await pollUntil(reconnected, BITE_TIMEOUT_MS, "a service reconnecting to Kafka after the resets", 100);
          await sleep(2_000); // the others too
          console.log(`network-faults: silenced ${kafka.silenceOpen()} open Kafka connections`);
        }
        await sleep(chaos.profile.networkFaultMs / 3);
      } finally {
        for (const link of links) link.setLatency(0);
      }
    },
  },
  {
    name: "rebalance-storm",
    what: "consumer instances joining and leaving every few seconds, every group in turn",
    faultMs: (chaos) => chaos.profile.stormMs,
    inject: async (chaos) => {
      const base = chaos.profile.consumerInstances;
      const steps = Math.floor(chaos.profile.stormMs / chaos.profile.stormEveryMs);
      try {
        for (let step = 0; step < steps; step += 1) {
          const started = Date.now();
          const group = GROUPS[Math.floor(step / 2) % GROUPS.length]!;
          await chaos.scale(group, step % 2 === 0 ? base + 1 : base);
          await sleep(Math.max(0, chaos.profile.stormEveryMs - (Date.now() - started)));
        }
      } finally {
        for (const group of GROUPS) await chaos.scale(group, base);
      }
    },
  },
];

const profile = chaosProfile().name;
const selected = selectedScenarios(
  SCENARIOS.map((s) => s.name),
  SCENARIOS.filter((s) => s.profiles?.includes(profile) ?? true).map((s) => s.name),
);
let chaos: ChaosPipeline;
const rows: ScenarioRow[] = [];

beforeAll(async () => {
  if (selected.length > 0) chaos = await startPipeline({ name: "single" });
});

afterAll(async () => {
  await chaos?.stop();
  if (rows.length > 0) console.log(`\nchaos tier (profile ${rows[0]!.profile}):\n${reportTable(rows)}\n`);
});

describe("chaos on the single-broker stack", () => {
  for (const scenario of SCENARIOS.filter((s) => selected.includes(s.name))) {
    it(`${scenario.name}: ${scenario.what}; the audit stays green`, async () => {
      const row = await chaos.runScenario(scenario.name, () => scenario.inject(chaos), scenario.faultMs(chaos));
      rows.push(row);
      expect(row.accepted).toBeGreaterThan(0);
      expect(row.recoverMs).toBeGreaterThanOrEqual(0);
      expect({ lost: row.lost, duplicateEffects: row.duplicateEffects, orderViolations: row.orderViolations, violations: row.violations }).toEqual({
        lost: 0,
        duplicateEffects: 0,
        orderViolations: 0,
        violations: {},
      });
      expect(row.auditOk).toBe(true);
    });
  }
});
