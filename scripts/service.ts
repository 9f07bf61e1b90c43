// `npm run service -- <name> [--instances N]`: runs N instances of one service against the running stack (the
// consumer group shares the partitions among them). Ctrl-C drains and stops them.
import { parseArgs } from "node:util";
import { stackPaths } from "./stack/stack-config.ts";
import { discoverServices } from "./run/discover-services.ts";
import { ServiceSupervisor } from "./run/service-supervisor.ts";
import { loadConfig } from "../services/shared/config/load-config.ts";

const { positionals, values } = parseArgs({ allowPositionals: true, options: { instances: { type: "string", default: "1" } } });
const repo = stackPaths().repo;
const known = discoverServices(repo);
const name = positionals[0];
const instances = Number(values.instances);
if (!name || !known.includes(name) || !Number.isInteger(instances) || instances < 1 || instances > 32) {
  console.error(`usage: npm run service -- <${known.join("|")}> [--instances 1..32]`);
  process.exit(2);
}
const config = loadConfig();
const supervisor = new ServiceSupervisor(repo, process.env);
supervisor.start([{ name, instances }]);
console.log(`running ${instances} instance(s) of ${name}; Ctrl-C stops them`);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => void supervisor.stop(config.SHUTDOWN_GRACE_MS + 5000).then(() => process.exit(0)));
}
