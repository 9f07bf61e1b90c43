import type { StackComponent } from "../component.ts";
import { jaeger } from "./jaeger.ts";
import { kafka } from "./kafka.ts";
import { postgres } from "./postgres.ts";
import { registry } from "./registry.ts";

/** `up` installs all at once and starts each when its dependsOn are up; `down` stops them in reverse of this order. */
export const ALL_COMPONENTS: readonly StackComponent[] = [postgres, kafka, registry, jaeger];

export function selectComponents(names: readonly string[]): StackComponent[] {
  if (names.length === 0) return [...ALL_COMPONENTS];
  return names.map((name) => {
    const found = ALL_COMPONENTS.find((c) => c.name === name);
    if (!found) throw new Error(`unknown component "${name}"; known: ${ALL_COMPONENTS.map((c) => c.name).join(", ")}`);
    return found;
  });
}
