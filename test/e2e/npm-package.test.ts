/**
 * The npm package: `npm pack` gives a tarball that `npm install -g` installs into a
 * fresh prefix on this machine, offline (it has no dependencies: dist/ is bundled),
 * building the native module with node-gyp against the headers beside this Node;
 * `keyrack` on PATH is then the fast launcher, the README's quick start works from
 * there, and the hooks name files inside the installed package. When the native
 * build fails, the install still succeeds, the local vaults work, and the daemon
 * says how to build what it needs, which then works.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, requireTool, run, sandbox, type Sandbox } from '../helpers.ts';

const PASS = 'npm package passphrase';
const TOKEN = "ghp_it's $(not run)";

const packed = (async () => {
  const dir = sandbox();
  // dist/ is built (test/run.sh); prepack would rebuild it under the other tests' feet.
  const r = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir.dir], { cwd: ROOT, env: { ...dir.env, npm_config_cache: join(dir.dir, 'npm-cache') } });
  assert.equal(r.code, 0, r.stderr);
  const [info] = JSON.parse(r.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  return { dir, tgz: join(dir.dir, info!.filename), files: info!.files.map((f) => f.path) };
})();
after(async () => (await packed).dir.cleanup());

/** `npm install -g` of the tarball into `prefix`, as the README says, with nothing from the network. */
async function install(sb: Sandbox, prefix: string, env: NodeJS.ProcessEnv = {}) {
  const { tgz } = await packed;
  return run('npm', ['install', '-g', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', '--foreground-scripts', `--allow-scripts=${tgz}`, tgz], {
    env: { ...sb.env, npm_config_cache: join(sb.dir, 'npm-cache'), ...env }, cwd: sb.dir,
  });
}

function user(sb: Sandbox, prefix: string): NodeJS.ProcessEnv {
  return { ...sb.env, PATH: `${join(prefix, 'bin')}:${process.env.PATH}` };
}

const sh = (sb: Sandbox, env: NodeJS.ProcessEnv, script: string, input = '') => run('sh', ['-c', script], { env, cwd: sb.home, input });

test('the tarball carries what an installed keyrack needs, and nothing of the checkout', async (t) => {
  if (!requireTool('npm')) return t.skip('npm missing');
  const { files } = await packed;
  for (const f of ['bin/keyrack', 'dist/keyrack.mjs', 'dist/keyrack-export.cjs', 'native/binding.gyp', 'native/keyrack_native.c', 'native/keyrack_fast.c',
    'native/fast_client.c', 'native/fast_client.h', 'native/fast_exec.c', 'native/fast_exec.h', 'native/fast_views.c', 'native/fast_views.h',
    'scripts/install.mjs', 'scripts/build-native.mjs', 'shell/keyrack.bash', 'shell/keyrack.tcsh', 'shell/keyrack-gate.tcsh', 'shell/keyrack.elv',
    'shell/keyrack.direnv.bash', 'package.json', 'README.md']) assert.ok(files.includes(f), `${f} is missing from the tarball`);
  assert.deepEqual(files.filter((f) => /^(src|test|bench|node_modules|native\/build)\//.test(f) || f === 'install.sh'), []);
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(pkg.private, undefined, 'nothing blocks publishing');
  assert.deepEqual(pkg.bin, { keyrack: 'bin/keyrack' });
  assert.equal(pkg.dependencies, undefined, 'everything it runs is bundled into dist/');
});

test('npm install -g: native module built, keyrack on PATH is the fast launcher, the quick start works, hooks point into the package', async (t) => {
  if (!requireTool('npm') || !requireTool('strace')) return t.skip('missing tools');
  const sb = sandbox();
  t.after(() => sb.cleanup());
  const prefix = join(sb.dir, 'prefix');
  const r = await install(sb, prefix);
  assert.equal(r.code, 0, r.stderr);
  const pkgDir = realpathSync(join(prefix, 'lib', 'node_modules', 'keyrack'));
  assert.ok(existsSync(join(pkgDir, 'native', 'build', 'Release', 'keyrack_native.node')), `the native module was not built:\n${r.stderr}`);
  const fast = join(pkgDir, 'native', 'build', 'Release', 'keyrack-fast');
  assert.ok(lstatSync(join(prefix, 'bin', 'keyrack')).isSymbolicLink());
  assert.equal(realpathSync(join(prefix, 'bin', 'keyrack')), join(pkgDir, 'bin', 'keyrack'), readlinkSync(join(prefix, 'bin', 'keyrack')));
  assert.match(readFileSync(join(pkgDir, 'bin', 'keyrack'), 'utf8'), new RegExp(`^exec '${fast}' '${process.execPath}' '${join(pkgDir, 'dist', 'keyrack.mjs')}' "\\$@"$`, 'm'));

  // The README's quick start, from the installed package.
  const env = user(sb, prefix);
  const step = async (script: string, input = '') => {
    const s = await sh(sb, env, script, input);
    assert.equal(s.code, 0, `${script}: ${s.stderr}`);
    return s;
  };
  await step('keyrack init', `${PASS}\n`);
  await step('keyrack set GITHUB_TOKEN', `${TOKEN}\n`);
  await step("printf %s 'npm_abc' | keyrack set NPM_TOKEN --vault os.direct");
  await step("mkdir -p ~/demo && cd ~/demo && printf 'GITHUB_TOKEN\\nNPM_TOKEN\\nSENTRY_DSN?\\n' > .keyrack && keyrack allow");
  await step('cd ~/demo && keyrack unlock', `${PASS}\n`);
  const ex = await step(`cd ~/demo && keyrack exec -- sh -c 'echo "token has \${#GITHUB_TOKEN} chars"'`);
  assert.equal(ex.stdout, `token has ${TOKEN.length} chars\n`);

  // exec through the launcher: keyrack-fast gets the keys from the daemon; no Node starts.
  const log = join(sb.dir, 'exec.strace');
  await step(`cd ~/demo && strace -f -qq -e trace=execve -o ${log} keyrack exec -- true`);
  const execs = readFileSync(log, 'utf8').split('\n').filter((l) => l.includes('execve(') && !l.includes('ENOENT'));
  assert.ok(execs.some((l) => l.includes(`"${fast}"`)), execs.join('\n'));
  assert.equal(execs.filter((l) => /execve\("[^"]*\/node"/.test(l)).length, 0, `node started:\n${execs.join('\n')}`);

  // The hooks name files inside the installed package, and work from there.
  const hook = await step('keyrack hook bash');
  assert.ok(hook.stdout.includes(`'${fast}' '${process.execPath}' '${join(pkgDir, 'dist', 'keyrack.mjs')}' export bash`), hook.stdout);
  const tcsh = await step('keyrack hook tcsh');
  assert.ok(tcsh.stdout.includes(`source '${join(pkgDir, 'shell', 'keyrack.tcsh')}'`), tcsh.stdout);
  const direnv = await step('keyrack hook direnv');
  assert.ok(direnv.stdout.includes(join(pkgDir, 'dist', 'keyrack.mjs')), direnv.stdout);
  const inShell = await step(`bash -c 'eval "$(keyrack hook bash)"; cd ~/demo; __keyrack_hook 2>/dev/null; printf %s "$GITHUB_TOKEN"'`);
  assert.equal(inShell.stdout, TOKEN);
  const doctor = await sh(sb, env, 'keyrack doctor');
  assert.match(doctor.stdout + doctor.stderr, /native peer-credential module loads/);
});

test('when the native build fails, the install succeeds, the local vaults work, and the daemon says how to build what it needs', async (t) => {
  if (!requireTool('npm')) return t.skip('npm missing');
  const sb = sandbox();
  t.after(() => sb.cleanup());
  const prefix = join(sb.dir, 'prefix');
  // No working compiler: node-gyp's make step fails.
  const r = await install(sb, prefix, { CC: '/bin/false', CXX: '/bin/false' });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout + r.stderr, /keyrack: \*\*\* the native module did not build/);
  const pkgDir = realpathSync(join(prefix, 'lib', 'node_modules', 'keyrack'));
  assert.equal(existsSync(join(pkgDir, 'native', 'build', 'Release', 'keyrack_native.node')), false);
  // The launcher runs node directly.
  assert.match(readFileSync(join(pkgDir, 'bin', 'keyrack'), 'utf8'), new RegExp(`^exec '${process.execPath}' '${join(pkgDir, 'dist', 'keyrack.mjs')}' "\\$@"$`, 'm'));

  const env = user(sb, prefix);
  const ok = async (script: string, input = '') => {
    const s = await sh(sb, env, script, input);
    assert.equal(s.code, 0, `${script}: ${s.stderr}`);
    return s;
  };
  await ok('keyrack init', `${PASS}\n`);
  await ok('keyrack set GITHUB_TOKEN', `${TOKEN}\n`);
  await ok("printf %s 'npm_abc' | keyrack set NPM_TOKEN --vault os.direct");
  mkdirSync(join(sb.home, 'demo'));
  writeFileSync(join(sb.home, 'demo', '.keyrack'), 'NPM_TOKEN\n');
  await ok('cd ~/demo && keyrack allow');
  assert.equal((await ok(`cd ~/demo && keyrack exec -- sh -c 'printf %s "$NPM_TOKEN"'`)).stdout, 'npm_abc');
  assert.equal((await ok(`bash -c 'eval "$(keyrack hook bash)"; cd ~/demo; __keyrack_hook 2>/dev/null; printf %s "$NPM_TOKEN"'`)).stdout, 'npm_abc');

  // unlock needs the daemon, which needs the module: it says so, and how to build it here.
  const unlock = await sh(sb, env, 'keyrack unlock GITHUB_TOKEN', `${PASS}\n`);
  assert.notEqual(unlock.code, 0);
  const step = join(pkgDir, 'scripts', 'install.mjs');
  assert.ok(unlock.stderr.includes(`node '${step}'`), unlock.stderr);
  assert.match(unlock.stderr, /python3, make, a C compiler/);
  // Doing what it says (with a compiler) makes unlock work.
  const fix = await run(process.execPath, [step], { env: sb.env, cwd: sb.dir });
  assert.equal(fix.code, 0, fix.stderr);
  assert.ok(existsSync(join(pkgDir, 'native', 'build', 'Release', 'keyrack_native.node')), fix.stderr);
  await ok('keyrack unlock GITHUB_TOKEN', `${PASS}\n`);
  assert.equal((await ok(`keyrack exec --no-mask --key GITHUB_TOKEN -- sh -c 'printf %s "$GITHUB_TOKEN"'`)).stdout, TOKEN);
});
