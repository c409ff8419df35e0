/**
 * In-process fixtures for the unit tests: a private HOME and XDG tree under /tmp
 * (every path keyrack uses derives from these), a registry, os.direct values and
 * projects with a manifest, written through keyrack's own modules. Needs no build.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readManifest } from '../../src/env/manifest.ts';
import { allow } from '../../src/env/trust.ts';
import { saveRegistry, type VaultId } from '../../src/registry.ts';
import { putDirect } from '../../src/vaults/direct.ts';

export interface TempEnv {
  dir: string;
  env: NodeJS.ProcessEnv;
  /** Registers keys (name → vault). */
  register(keys: Record<string, VaultId>): void;
  /** Stores os.direct values (register them too). */
  direct(values: Record<string, string>): void;
  /** A project directory with this .keyrack; allowed unless `trusted` is false. */
  project(name: string, manifest: string, trusted?: boolean): string;
  cleanup(): void;
}

export function tempEnv(): TempEnv {
  const dir = mkdtempSync(join(tmpdir(), 'kru-'));
  const home = join(dir, 'home');
  const run = join(dir, 'run');
  mkdirSync(home, { mode: 0o700 });
  mkdirSync(run, { mode: 0o700 });
  const env: NodeJS.ProcessEnv = {
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_DATA_HOME: join(home, '.local', 'share'),
    XDG_STATE_HOME: join(home, '.local', 'state'),
    XDG_RUNTIME_DIR: run,
  };
  return {
    dir, env,
    register(keys) {
      saveRegistry(env, { version: 1, keys: Object.fromEntries(Object.entries(keys).map(([k, vault]) => [k, { vault }])) });
    },
    direct(values) {
      putDirect(new Map(Object.entries(values)), env);
    },
    project(name, manifest, trusted = true) {
      const p = join(dir, name);
      mkdirSync(p, { recursive: true });
      writeFileSync(join(p, '.keyrack'), manifest);
      if (trusted) allow(readManifest(join(p, '.keyrack')), env);
      return p;
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
