import type { StackComponent } from "../component.ts";
import { jaeger } from "./jaeger.ts";
import { kafka } from "./kafka.ts";
import { kafkaCluster } from "./kafka-cluster.ts";
import { postgres } from "./postgres.ts";
import { registry } from "./registry.ts";

/** `up` installs all at once and starts each when its dependsOn are up; `down` stops them in reverse of this order. */
export const ALL_COMPONENTS: readonly StackComponent[] = [postgres, kafka, registry, jaeger];

/**
 * What `--profile` selects. kafka-cluster is the same stack with the 3-node KRaft cluster in place of the single
 * broker; the services then need only KAFKA_BROKERS set to it (their topics take the brokers' replication factor).
 */
export const PROFILES = {
  default: ALL_COMPONENTS,
  "kafka-cluster": [postgres, kafkaCluster, registry, jaeger],
} as const satisfies Record<string, readonly StackComponent[]>;

export type ProfileName = keyof typeof PROFILES;

const KNOWN: readonly StackComponent[] = [...ALL_COMPONENTS, kafkaCluster];

export function isProfileName(value: string): value is ProfileName {
  return Object.hasOwn(PROFILES, value);
}

/** The named components (any known one, e.g. `up kafka-cluster`), or the whole profile when none is named. */
export function selectComponents(names: readonly string[], profile: ProfileName = "default"): StackComponent[] {
  if (names.length === 0) return [...PROFILES[profile]];
  return names.map((name) => {
    const found = KNOWN.find((c) => c.name === name);
    if (!found) throw new Error(`unknown component "${name}"; known: ${KNOWN.map((c) => c.name).join(", ")}`);
    return found;
  });
}
