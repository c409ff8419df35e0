// npm's `install` step for the package (`npm install -g keyrack`): builds the
// native module and keyrack-fast with node-gyp against the headers beside this
// Node (no download), then writes bin/keyrack as the fast launcher. It never
// fails the install: without the native module keyrack still works on its local
// vaults, and says what the daemon needs (src/native.ts). A checkout builds with
// ./install.sh or scripts/build-all.sh instead, so there this does nothing.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, realpathSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const root = realpathSync(new URL('..', import.meta.url).pathname);
const say = (line) => process.stderr.write(`keyrack: ${line}\n`);

if (existsSync(join(root, '.git'))) process.exit(0);

/** node-gyp with the headers beside node, or the reason it cannot run. */
function buildNative() {
  const headers = join(dirname(dirname(process.execPath)), 'include', 'node', 'node_api.h');
  if (!process.env.npm_config_nodedir && !existsSync(headers)) {
    return `Node's headers are not beside it (${headers}); install them with your Node (Debian's nodejs: libnode-dev), or set npm_config_nodedir`;
  }
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'build-native.mjs'), 'rebuild'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  if (r.status === 0) return null;
  return `node-gyp failed (it needs python3, make and a C compiler):\n${(r.stderr || r.stdout || String(r.error)).trim().split('\n').slice(-15).join('\n')}`;
}

const failed = buildNative();
if (failed) {
  say(`*** the native module did not build: ${failed}`);
  say('*** without it os.direct keys work (set, get, exec, the hooks) and os.secure keys can be stored; unlock (the session daemon) needs it.');
  say(`*** after fixing that: node ${join(root, 'scripts', 'install.mjs')}`);
}

// The launcher, by absolute path (a symlink from npm's bin dir points here).
const q = (s) => `'${s.replaceAll("'", `'\\''`)}'`;
const fast = join(root, 'native', 'build', 'Release', 'keyrack-fast');
const words = [...(existsSync(fast) ? [fast] : []), process.execPath, join(root, 'dist', 'keyrack.mjs')];
const launcher = join(root, 'bin', 'keyrack');
const tmp = `${launcher}.${process.pid}.tmp`;
writeFileSync(tmp, `#!/bin/sh\n# Written by keyrack's install script (scripts/install.mjs).\nexec ${words.map(q).join(' ')} "$@"\n`);
chmodSync(tmp, 0o755);
renameSync(tmp, launcher);
