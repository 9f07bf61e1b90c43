import { existsSync, readFileSync } from "node:fs";
import { createStackContext } from "./context.ts";
import { StackError } from "./errors.ts";
import { selectComponents } from "./components/all.ts";
import { stackDown, stackStatus, stackUp } from "./stack-manager.ts";

const USAGE = `usage: npm run stack -- <up|down|status|logs> [component ...]
  up       install what is missing (state in .stack/, built artefacts in ~/.cache/orderflow) and start
           (postgres, kafka, registry, jaeger: installs at once, each started when its dependencies are up)
  down     stop; data stays
  status   health of each component
  logs     last 40 lines of each component's log`;

async function main(argv: string[]): Promise<number> {
  const [command, ...names] = argv;
  const ctx = createStackContext();
  const components = selectComponents(names);
  switch (command) {
    case "up":
      await stackUp(ctx, components);
      return 0;
    case "down":
      await stackDown(ctx, components);
      return 0;
    case "status": {
      const rows = await stackStatus(ctx, components);
      for (const r of rows) console.log(`${r.healthy ? "up  " : "DOWN"}  ${r.name.padEnd(9)} ${r.where}`);
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
