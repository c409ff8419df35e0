// `npm run build:native` (and the package's install step, scripts/install.mjs):
// node-gyp for native/ (the N-API module and keyrack-fast), offline. node-gyp
// downloads Node's headers unless told where they are; this Node ships them
// beside itself (<prefix>/include/node, as Debian's nodejs and the nodejs.org
// tarballs do), so point it there. An explicit npm_config_nodedir wins.
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
/**
 * Our own node-gyp (a checkout), else the one npm runs install scripts with, else
 * the one in npm beside this node (an installed package built again by hand).
 */
function nodeGyp() {
  try {
    return createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
  } catch {
    const npms = join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
    return process.env.npm_config_node_gyp ?? (existsSync(npms) ? npms : undefined);
  }
}
const gyp = nodeGyp();
if (!gyp) {
  process.stderr.write('build-native: node-gyp not found (npm install, or run this from an npm script)\n');
  process.exit(1);
}
const r = spawnSync(process.execPath, [gyp, ...args], { stdio: 'inherit' });
process.exit(r.status ?? 1);
