import { existsSync, readFileSync } from "node:fs";
import { createStackContext } from "./context.ts";
import { StackError } from "./errors.ts";
import { selectComponents } from "./components/all.ts";
import { kafkaCluster } from "./components/kafka-cluster.ts";
import { parseStackArgs } from "./stack-args.ts";
import { stackDown, stackStatus, stackUp } from "./stack-manager.ts";

const USAGE = `usage: npm run stack -- <up|down|status|logs> [component ...] [--profile default|kafka-cluster]
  up       install what is missing (state in .stack/, built artefacts in ~/.cache/orderflow) and start
           (postgres, kafka, registry, jaeger: installs at once, each started when its dependencies are up)
  down     stop; data stays
  status   health of each component
  logs     last 40 lines of each component's log
  --profile kafka-cluster: a 3-node KRaft cluster (component kafka-cluster) in place of the single broker`;

async function main(argv: string[]): Promise<number> {
  let args: ReturnType<typeof parseStackArgs>;
  try {
    args = parseStackArgs(argv);
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    return 2;
  }
  const { command, names, profile } = args;
  const ctx = createStackContext();
  const components = selectComponents(names, profile);
  switch (command) {
    case "up":
      await stackUp(ctx, components);
      if (components.includes(kafkaCluster)) {
        ctx.info(kafkaCluster.name, `run the services on it with KAFKA_BROKERS=${kafkaCluster.bootstrapServers(ctx)}`);
      }
      return 0;
    case "down":
      await stackDown(ctx, components);
      return 0;
    case "status": {
      const rows = await stackStatus(ctx, components);
      for (const r of rows) console.log(`${r.healthy ? "up  " : "DOWN"}  ${r.name.padEnd(13)} ${r.where}`);
      return rows.every((r) => r.healthy) ? 0 : 1;
    }
    case "logs":
      for (const c of components) {
        const file = c.logFile(ctx);
        console.log(`==> ${c.name}: ${file}`);
        if (existsSync(file)) console.log(readFileSync(file, "utf8").split("\n").slice(-40).join("\n"));
      }
      return 0;
    default:
      console.error(USAGE);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof StackError ? `\nstack failed: ${error.explain()}` : error);
    process.exit(1);
  },
);
