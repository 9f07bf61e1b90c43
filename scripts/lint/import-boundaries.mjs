// A local ESLint rule for the boundaries of docs/design.md, checked by lint instead of kept by convention:
// - a service (a folder under services/) imports only services/shared and its own folder, and services/shared
//   imports only itself;
// - production code (services/**, except *.test.ts and test-support/ folders) imports neither test support
//   (test/**, **/test-support/**) nor scripts/**.
// Tests may import test support from anywhere. Only relative specifiers are checked: packages have their own rules.
import path from "node:path";

const posix = path.posix;

function isTestCode(file) {
  return /\.test\.[cm]?[jt]s$/.test(file) || file.split("/").includes("test-support");
}

function isTestSupport(target) {
  return target.startsWith("test/") || target.split("/").includes("test-support");
}

/** The message id and data for an import of `target` from `file` (both relative to the repository), or undefined. */
export function boundaryViolation(file, target) {
  const [top, owner] = file.split("/");
  if (top !== "services" || !owner) return undefined;
  const testCode = isTestCode(file);
  if (!testCode && target.startsWith("scripts/")) return { messageId: "scripts", data: { target } };
  if (!testCode && isTestSupport(target)) return { messageId: "testSupport", data: { target } };
  const [targetTop, targetOwner] = target.split("/");
  if (targetTop !== "services" || !targetOwner || targetOwner === owner || targetOwner === "shared") return undefined;
  if (testCode && isTestSupport(target)) return undefined;
  return { messageId: "otherService", data: { owner, target, targetOwner } };
}

export const importBoundaries = {
  meta: {
    type: "problem",
    docs: { description: "services import only services/shared and their own folder; production code never imports test support or scripts" },
    schema: [],
    messages: {
      otherService: "services/{{owner}} must not import {{target}}: a service imports only services/shared and its own folder (move what both need to services/shared)",
      testSupport: "production code must not import test support ({{target}}); only tests may",
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
