/**
 * One word per state (issue 15, items 8 and 9), across export (the hook's line),
 * exec, unlock, get, rm, allow, status and its JSON: a key is ready, locked or
 * absent; a manifest is untrusted, changed (edited since it was allowed) or denied.
 * None of the old names comes back, a typo of a registered key gets "did you mean",
 * keys never set are one line, and paths under HOME print as ~/….
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { keyrack, sandbox, type Result } from '../helpers.ts';

const OLD_WORDS = /not set up|not in the registry|no key |not allowed|\bunlocked\b(?! \d)|\bstored\b/;

test('the same word for the same state in every command, and did you mean for a typo', async (t) => {
  const sb = sandbox();
  t.after(() => sb.cleanup());
  const kr = async (args: string[], cwd?: string, input = ''): Promise<Result> => keyrack(args, { env: { ...sb.env, ...(cwd ? { PWD: cwd } : {}) }, input, ...(cwd ? { cwd } : {}) });
  assert.equal((await kr(['init'], undefined, 'pw\n')).code, 0);
  assert.equal((await kr(['set', 'GITHUB_TOKEN'], undefined, 'gh\n')).code, 0);
  assert.equal((await kr(['set', 'D', '--vault', 'os.direct'], undefined, 'd\n')).code, 0);
  const proj = join(sb.home, 'proj'); // under HOME: printed as ~/proj
  mkdirSync(proj);
  writeFileSync(join(proj, '.keyrack'), 'GITHUB_TOKEN\nD\nGITHUB_TOKN\nNEVER_SET\n');
  /** What people read (JSON keeps absolute paths: it is for programs). */
  const said: string[] = [];
  const run = async (args: string[], input = '') => {
    const r = await kr(args, proj, input);
    said.push(args.includes('--json') ? '' : r.stdout, r.stderr);
    return r;
  };

  // untrusted, in every command that looks at the manifest
  assert.match((await run(['export', 'bash'])).stderr, /\.keyrack is untrusted — run keyrack allow/);
  assert.match((await run(['exec', '--', 'true'])).stderr, /~\/proj\/\.keyrack is untrusted — run keyrack allow/);
  assert.match((await run(['status'])).stdout, /^manifest +~\/proj\/\.keyrack \(untrusted — run keyrack allow\)$/m);
  assert.equal((JSON.parse((await run(['status', '--json'])).stdout) as { manifest: { trust: string } }).manifest.trust, 'untrusted');

  // allow: the path as ~/…, and the keys never set in one line, with did you mean
  const allowed = await run(['allow']);
  assert.match(allowed.stderr, /allowed ~\/proj\/\.keyrack \(4 keys/);
  assert.match(allowed.stderr, /^keyrack: 2 keys are absent \(GITHUB_TOKN, NEVER_SET\) — run keyrack set KEY; did you mean GITHUB_TOKEN for GITHUB_TOKN\?$/m);

  // locked and absent
  const exp = await run(['export', 'bash']);
  assert.match(exp.stderr, /^keyrack: \+D; GITHUB_TOKEN locked — run keyrack unlock; 2 keys absent \(GITHUB_TOKN, NEVER_SET\) — run keyrack set KEY; did you mean GITHUB_TOKEN for GITHUB_TOKN\?\n$/);
  assert.match((await run(['exec', '--', 'true'])).stderr, /2 keys are absent \(GITHUB_TOKN, NEVER_SET\)/);
  const st = JSON.parse((await run(['status', '--json'])).stdout) as { version: number; manifest: { entries: Array<{ key: string; state: string }> } };
  assert.equal(st.version, 2);
  assert.deepEqual(st.manifest.entries.map((e) => [e.key, e.state]), [['GITHUB_TOKEN', 'locked'], ['D', 'ready'], ['GITHUB_TOKN', 'absent'], ['NEVER_SET', 'absent']]);
  assert.match((await run(['status'])).stdout, /GITHUB_TOKN +absent\n/);
  const unlock = await run(['unlock'], 'pw\n');
  assert.equal(unlock.code, 2);
  assert.equal(unlock.stderr.split('\n').filter((l) => /absent/.test(l)).length, 1, 'one line for all the keys never set');
  assert.match(unlock.stderr, /2 keys are absent \(GITHUB_TOKN, NEVER_SET\) — run keyrack set KEY; did you mean GITHUB_TOKEN for GITHUB_TOKN\?/);
  assert.match((await run(['get', 'GITHUB_TOKN'])).stderr, /^keyrack: GITHUB_TOKN is absent — did you mean GITHUB_TOKEN\? If not, run keyrack set GITHUB_TOKN\n$/);
  assert.match((await run(['rm', 'GITHUB_TOKN'])).stderr, /GITHUB_TOKN is absent: nothing to remove — did you mean GITHUB_TOKEN\?/);
  const list = JSON.parse((await run(['list', '--json'])).stdout) as { version: number; keys: Array<{ name: string; state: string }> };
  assert.deepEqual([list.version, list.keys.map((k) => [k.name, k.state])], [2, [['D', 'ready'], ['GITHUB_TOKEN', 'ready']]]);
  await run(['lock']);
  assert.match((await run(['get', 'GITHUB_TOKEN'])).stderr, /GITHUB_TOKEN is locked — run keyrack unlock GITHUB_TOKEN/);

  // changed: edited since it was allowed
  appendFileSync(join(proj, '.keyrack'), 'MORE?\n');
  assert.match((await run(['export', 'bash'])).stderr, /\.keyrack changed since it was allowed — run keyrack allow to trust it again/);
  assert.match((await run(['exec', '--', 'true'])).stderr, /~\/proj\/\.keyrack changed since it was allowed/);
  assert.equal((JSON.parse((await run(['status', '--json'])).stdout) as { manifest: { trust: string } }).manifest.trust, 'changed');
  assert.match((await run(['status'])).stdout, /\(changed since it was allowed — run keyrack allow\)/);

  // denied
  await run(['deny']);
  assert.match((await run(['export', 'bash'])).stderr, /\.keyrack is denied — run keyrack allow to use it/);
  assert.equal((JSON.parse((await run(['status', '--json'])).stdout) as { manifest: { trust: string } }).manifest.trust, 'denied');

  // paths under HOME, in an error too
  writeFileSync(join(sb.env.XDG_CONFIG_HOME!, 'keyrack', 'registry.json'), '{');
  assert.match((await run(['list'])).stderr, /^keyrack: ~\/\.config\/keyrack\/registry\.json is not valid JSON/);

  const old = said.join('\n').split('\n').filter((l) => OLD_WORDS.test(l) && !/^unlocked \d/.test(l.replace(/^keyrack: /, '')));
  assert.deepEqual(old, [], 'none of the old words');
  assert.ok(!said.join('\n').includes(sb.home), 'HOME is never printed in full');
});

test('status says uid-only once', async (t) => {
  const sb = sandbox();
  t.after(() => sb.cleanup());
  assert.equal((await keyrack(['daemon', 'start'], { env: sb.env })).code, 0);
  const text = (await keyrack(['status'], { env: sb.env })).stdout;
  assert.equal(text.split(/uid[- ]only/).length - 1, 1, text);
});
