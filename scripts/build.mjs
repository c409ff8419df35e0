// Bundles the CLI into dist/ with one chunk per lazily imported command, so the
// hot path (`keyrack export`) loads no vault or crypto code.
import { build } from 'esbuild';
import { chmodSync, rmSync } from 'node:fs';

rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
await build({
  entryPoints: { keyrack: 'src/cli.ts' },
  outdir: 'dist',
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
chmodSync(new URL('../dist/keyrack.mjs', import.meta.url), 0o755);
