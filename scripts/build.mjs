// Bundles the CLI into dist/ with one chunk per lazily imported command, so the
// hot path (`keyrack export`) loads no vault or crypto code; and the same export as
// one self-contained CommonJS file, dist/keyrack-export.cjs, for keyrack-fast's
// fallback (src/export-entry.ts). Builds into a temp dir and swaps it in, so a test running
// the old bundle never sees a half-built one.
import { build } from 'esbuild';
import { chmodSync, renameSync, rmSync } from 'node:fs';

const root = new URL('../', import.meta.url);
const tmp = new URL(`dist.tmp-${process.pid}/`, root);
const old = new URL(`dist.old-${process.pid}/`, root);
const dist = new URL('dist/', root);

try {
  await build({
    entryPoints: { keyrack: 'src/cli.ts' },
    outdir: tmp.pathname,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    chunkNames: 'chunks/[name]-[hash]',
    banner: { js: '#!/usr/bin/env node' },
    logLevel: 'warning',
  });
  await build({
    entryPoints: ['src/export-entry.ts'],
    outfile: new URL('keyrack-export.cjs', tmp).pathname,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    // Where the code looks for native/ and shell/ beside itself.
    define: { 'import.meta.url': '__keyrackModuleUrl' },
    banner: { js: 'const __keyrackModuleUrl = require("node:url").pathToFileURL(__filename).href;' },
    logLevel: 'warning',
  });
  chmodSync(new URL('keyrack.mjs', tmp), 0o755);
  try { renameSync(dist, old); } catch { /* first build */ }
  renameSync(tmp, dist);
} finally {
  rmSync(tmp, { recursive: true, force: true });
  rmSync(old, { recursive: true, force: true });
}
