import { existsSync } from "node:fs";
import path from "node:path";
import type { StackComponent } from "../component.ts";
import type { StackContext } from "../context.ts";
import { StackError } from "../errors.ts";
import { REGISTRY_VERSION as VERSION } from "../artefact-cache.mjs";
import { installCached } from "../cached-install.ts";
import { assertPortFree, fetchWithTimeout, isPortOpen, readPid, startDaemon, stopDaemon, waitUntil } from "../process.ts";

const NAME = "registry";
/** Apicurio 3.2+ is built for Java 21: run it on the Temurin 25 JDK installed beside the default Java 17. */
const DEFAULT_JAVA = "/usr/lib/jvm/temurin-25-jdk-amd64/bin/java";
const HEAP_MB = 384;
const FIX_HINT =
  "is PostgreSQL up with database apicurio, and is port 8081 (SCHEMA_REGISTRY_PORT) or 9081 (SCHEMA_REGISTRY_MANAGEMENT_PORT) free? see .stack/logs/registry.log";

function files(ctx: StackContext) {
  const root = path.join(ctx.paths.root, NAME);
  return {
    root,
    /** A link to the unpacked distribution in the machine's cache; the version in the name makes a bump a fresh install. */
    app: path.join(root, `apicurio-registry-${VERSION}`),
    log: path.join(ctx.paths.logs, "registry.log"),
  };
}

/** Settings the stack does not expose in StackConfig: read here, with the defaults of the local stack. */
function registrySettings(ctx: StackContext, env: NodeJS.ProcessEnv = process.env) {
  return {
    java: env.SCHEMA_REGISTRY_JAVA || DEFAULT_JAVA,
    managementPort: ctx.config.registryManagementPort,
    dbUrl: env.SCHEMA_REGISTRY_DB_URL || `jdbc:postgresql://${ctx.config.host}:${ctx.config.postgresPort}/apicurio`,
  };
}

/** The Confluent-compatible API base, e.g. http://127.0.0.1:8081/apis/ccompat/v7. */
export function ccompatUrl(ctx: StackContext): string {
  return `http://${ctx.config.host}:${ctx.config.registryPort}/apis/ccompat/v7`;
}

async function answers(ctx: StackContext): Promise<boolean> {
  try {
    const response = await fetchWithTimeout(`${ccompatUrl(ctx)}/subjects`, 2_000);
    await response.body?.cancel();
    return response.status === 200;
  } catch {
    return false;
  }
}

/** The library the services use expects BACKWARD; a registry answering otherwise would fail every register(). */
async function assertBackwardCompatibility(ctx: StackContext): Promise<void> {
  const response = await fetchWithTimeout(`${ccompatUrl(ctx)}/config`, 5_000);
  const body: unknown = await response.json();
  const level = typeof body === "object" && body !== null ? (body as Record<string, unknown>).compatibilityLevel : undefined;
  if (level !== "BACKWARD") {
    throw new StackError(NAME, `global compatibility is ${String(level)}, expected BACKWARD`, {
      logFile: files(ctx).log,
      hint: `someone changed it through the API: curl -X PUT -H 'Content-Type: application/json' -d '{"compatibility":"BACKWARD"}' ${ccompatUrl(ctx)}/config`,
    });
  }
}

function javaArgs(ctx: StackContext): string[] {
  const { host, registryPort, postgresUser } = ctx.config;
  const settings = registrySettings(ctx);
  const props: Record<string, string | number | boolean> = {
    "quarkus.http.host": host,
    "quarkus.http.port": registryPort,
    // The management interface (health, metrics) is fixed on at build time; keep it on loopback and a known port.
    "quarkus.management.host": host,
    "quarkus.management.port": settings.managementPort,
    "quarkus.http.access-log.enabled": false,
    // Durable storage: schema ids written into Kafka records must still resolve after a registry restart.
    "apicurio.storage.kind": "sql",
    "apicurio.storage.sql.kind": "postgresql",
    "apicurio.datasource.url": settings.dbUrl,
    "apicurio.datasource.username": postgresUser,
    // Its default pool holds 20 connections open; a dev stack needs a few.
    "apicurio.datasource.jdbc.initial-size": 2,
    "apicurio.datasource.jdbc.min-size": 2,
    "apicurio.datasource.jdbc.max-size": 10,
    // Apicurio defaults to NONE; BACKWARD is the design's rule and what @kafkajs/confluent-schema-registry checks.
    "apicurio.rules.global.compatibility": "BACKWARD",
    // ccompat ids are contentIds (same schema text -> same id, like Confluent); kept in PostgreSQL, so stable.
    "apicurio.ccompat.legacy-id-mode.enabled": false,
  };
  return [
    `-Xmx${HEAP_MB}m`,
    "-XX:+ExitOnOutOfMemoryError",
    "-Djava.util.logging.manager=org.jboss.logmanager.LogManager",
    ...Object.entries(props).map(([key, value]) => `-D${key}=${value}`),
    "-jar",
    path.join(files(ctx).app, "quarkus-run.jar"),
  ];
}

async function assertReadyToStart(ctx: StackContext): Promise<void> {
  const { java, managementPort } = registrySettings(ctx);
  if (!existsSync(path.join(files(ctx).app, "quarkus-run.jar"))) {
    throw new StackError(NAME, "not installed", { hint: "run `npm run stack -- up`" });
  }
  if (!existsSync(java)) {
    throw new StackError(NAME, `Java 21+ not found at ${java}`, { hint: "install a JDK 21+ or point SCHEMA_REGISTRY_JAVA at its bin/java" });
  }
  await assertPortFree(NAME, ctx.config.host, ctx.config.registryPort, "SCHEMA_REGISTRY_PORT");
  await assertPortFree(NAME, ctx.config.host, managementPort, "SCHEMA_REGISTRY_MANAGEMENT_PORT");
  if (!process.env.SCHEMA_REGISTRY_DB_URL && !(await isPortOpen(ctx.config.host, ctx.config.postgresPort))) {
    throw new StackError(NAME, `PostgreSQL is not answering on ${ctx.config.host}:${ctx.config.postgresPort}; the registry stores its schemas there`, {
      hint: "start postgres first: npm run stack -- up",
    });
  }
}

export const registry: StackComponent = {
  name: NAME,
  fixHint: FIX_HINT,
  dependsOn: ["postgres"], // its schemas are stored there

  async install(ctx) {
    await installCached(ctx, NAME, files(ctx).app);
  },

  isHealthy: answers,

  async start(ctx) {
    if (!(await answers(ctx))) {
      let pid = readPid(ctx, NAME); // set when an earlier `up` started it and it is still coming up
      if (pid === undefined) {
        await assertReadyToStart(ctx);
        pid = startDaemon(ctx, NAME, registrySettings(ctx).java, javaArgs(ctx), {
          logFile: files(ctx).log,
          cwd: files(ctx).root, // not the shared install: whatever it writes stays in this clone
          // Quarkus reads it from the environment: a password on the command line would show in `ps`.
          env: { ...process.env, APICURIO_DATASOURCE_PASSWORD: ctx.config.postgresPassword },
        });
      }
      await ctx.step(NAME, `waiting for ${ccompatUrl(ctx)}`, () =>
        waitUntil(NAME, "answering GET /subjects", () => answers(ctx), {
          timeoutMs: 120_000,
          intervalMs: 500,
          logFile: files(ctx).log,
          pid,
          hint: FIX_HINT,
        }),
      );
    }
    await assertBackwardCompatibility(ctx);
  },

  async stop(ctx) {
    await stopDaemon(ctx, NAME, 30_000);
  },

  logFile(ctx) {
    return files(ctx).log;
  },

  describe(ctx) {
    return `Confluent API ${ccompatUrl(ctx)} (Apicurio ${VERSION}, storage PostgreSQL)`;
  },
};
