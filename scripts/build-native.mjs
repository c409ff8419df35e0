// `npm run build:native`: node-gyp for native/ (the N-API module and keyrack-fast),
// offline. node-gyp downloads Node's headers unless told where they are; this Node
// ships them beside itself (<prefix>/include/node, as Debian's nodejs and the
// nodejs.org tarballs do), so point it there. An explicit npm_config_nodedir wins.
//   node scripts/build-native.mjs [rebuild|build]   (default: rebuild)
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const action = process.argv[2] ?? 'rebuild';
const args = [action, '--directory', new URL('../native', import.meta.url).pathname];
const prefix = dirname(dirname(process.execPath));
if (!process.env.npm_config_nodedir && existsSync(join(prefix, 'include', 'node', 'node_api.h'))) {
  args.push(`--nodedir=${prefix}`);
}
const gyp = createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
const r = spawnSync(process.execPath, [gyp, ...args], { stdio: 'inherit' });
process.exit(r.status ?? 1);
