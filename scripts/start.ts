// `npm start`: bring up the local stack, prepare the dev database and topics, run every service (one instance each)
// and print where everything is. Ctrl-C stops the services cleanly; the stack keeps running (`npm run stack -- down`).
import { createStackContext } from "./stack/context.ts";
import { StackError } from "./stack/errors.ts";
import { ALL_COMPONENTS } from "./stack/components/all.ts";
import { stackUp } from "./stack/stack-manager.ts";
import { discoverServices } from "./run/discover-services.ts";
import { prepareEnvironment, devEnvironment } from "./run/prepare-environment.ts";
import { ServiceSupervisor } from "./run/service-supervisor.ts";
import { fetchWithTimeout, waitUntil } from "./stack/process.ts";
import { loadConfig } from "../services/shared/config/load-config.ts";

async function main(): Promise<void> {
  const ctx = createStackContext();
  const env = devEnvironment(process.env);
  const config = loadConfig(env);
  await stackUp(ctx, ALL_COMPONENTS);
  await prepareEnvironment(ctx, env, { resetDatabase: false, seedWhenEmpty: true });
  const services = discoverServices(ctx.paths.repo);
  const supervisor = new ServiceSupervisor(ctx.paths.repo, env);
  supervisor.start(services.map((name) => ({ name, instances: 1 })));
  const api = `http://${config.API_HOST}:${config.API_PORT}`;
  await waitUntil("order-api", "ready", async () => (await fetchWithTimeout(`${api}/readyz`, 2000)).ok, { timeoutMs: 90_000, intervalMs: 500 }).catch(
    (error: unknown) => console.error(`warning: ${error instanceof Error ? error.message : String(error)}; see the [order-api#1] lines above`),
  );
  console.log(`
Orderflow is running (${services.join(", ") || "no services yet"}).
  API            ${api}
  API docs       ${api}/docs
  lag monitor    ${api}/monitor/lag
  Jaeger         ${config.JAEGER_QUERY_URL}  (API: ${config.JAEGER_QUERY_URL}/api/services)
  registry       ${config.SCHEMA_REGISTRY_URL}/subjects
  Kafka          ${config.KAFKA_BROKERS}
  PostgreSQL     ${config.DATABASE_URL.replace(/:[^:@/]+@/, ":***@")}
Ctrl-C stops the services; the stack keeps running (npm run stack -- down stops it).
`);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping services (up to ${config.SHUTDOWN_GRACE_MS / 1000 + 5}s) ...`);
    await supervisor.stop(config.SHUTDOWN_GRACE_MS + 5000);
    console.log("services stopped; the stack is still up (npm run stack -- down).");
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}

main().catch((error: unknown) => {
  console.error(error instanceof StackError ? `\nnpm start: the stack would not start\n${error.explain()}` : error);
  process.exit(1);
});
