// A local ESLint rule for the boundaries of docs/design.md, checked by lint instead of kept by convention:
// - a service (a folder under services/) imports services/shared, its own folder, and another service only through
//   that service's declared public entry, services/<name>/public.ts (what it offers others, e.g. payment's webhook
//   plugin); services/shared imports only itself;
// - production code (services/**, except *.test.ts and test-support/ folders) imports neither test support
//   (test/**, **/test-support/**) nor scripts/**.
// - test support has one home, test/support/ (per-concern kits in its folders): an import of a test-support/ folder
//   anywhere else fails, whoever imports it.
// Tests may import test support. Only relative specifiers are checked: packages have their own rules.
import path from "node:path";

const posix = path.posix;

function isTestCode(file) {
  return /\.test\.[cm]?[jt]s$/.test(file) || file.split("/").includes("test-support");
}

/** The one file of a service that other services may import: its declared public entry. */
export const PUBLIC_ENTRY = "public.ts";

function isTestSupport(target) {
  return target.startsWith("test/") || target.split("/").includes("test-support");
}

/** The message id and data for an import of `target` from `file` (both relative to the repository), or undefined. */
export function boundaryViolation(file, target) {
  if (target.split("/").includes("test-support")) return { messageId: "strayTestSupport", data: { target } };
  const [top, owner] = file.split("/");
  if (top !== "services" || !owner) return undefined;
  const testCode = isTestCode(file);
  if (!testCode && target.startsWith("scripts/")) return { messageId: "scripts", data: { target } };
  if (!testCode && isTestSupport(target)) return { messageId: "testSupport", data: { target } };
  const [targetTop, targetOwner] = target.split("/");
  if (targetTop !== "services" || !targetOwner || targetOwner === owner || targetOwner === "shared") return undefined;
  if (testCode && isTestSupport(target)) return undefined;
  if (owner !== "shared" && target === `services/${targetOwner}/${PUBLIC_ENTRY}`) return undefined;
  return { messageId: owner === "shared" ? "sharedImportsService" : "otherService", data: { owner, target, targetOwner, entry: PUBLIC_ENTRY } };
}

export const importBoundaries = {
  meta: {
    type: "problem",
    docs: {
      description:
        "services import services/shared, their own folder and other services' public entries only; production code never imports test support or scripts",
    },
    schema: [],
    messages: {
      otherService:
        "services/{{owner}} must not import {{target}}: another service is reached only through its public entry services/{{targetOwner}}/{{entry}} " +
        "(export it there, or move what both need to services/shared)",
      sharedImportsService: "services/shared must not import {{target}}: shared code imports only services/shared (services build on it, not the other way)",
      testSupport: "production code must not import test support ({{target}}); only tests may",
      strayTestSupport: "test support has one home, test/support/: move {{target}} there (a kit per concern)",
      scripts: "production code must not import {{target}}: scripts/ is tooling, services must run without it",
    },
  },
  create(context) {
    const file = posix.normalize(path.relative(context.cwd, context.filename).split(path.sep).join("/"));
    const check = (node) => {
      const spec = node?.type === "Literal" && typeof node.value === "string" ? node.value : undefined;
      if (!spec || !spec.startsWith(".")) return;
      const violation = boundaryViolation(file, posix.normalize(posix.join(posix.dirname(file), spec)));
      if (violation) context.report({ node, ...violation });
    };
    return {
      ImportDeclaration: (node) => check(node.source),
      ExportNamedDeclaration: (node) => check(node.source),
      ExportAllDeclaration: (node) => check(node.source),
      ImportExpression: (node) => check(node.source),
    };
  },
};
