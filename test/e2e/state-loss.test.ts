/**
 * Leaving a project removes what keyrack set however its state was lost (issue 15,
 * item 1), in real bash, zsh, fish, tcsh and elvish on a pty: the data dir (with the fingerprint
 * key) removed, the fingerprint key corrupted, KEYRACK_STATE unset or garbled by
 * hand. Each time the key is gone from the shell after `cd` out, a value the shell
 * had before is back, and the line says what happened.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { keyrack, requireTool, sandbox } from '../helpers.ts';
import { ShellSession } from '../shell-session.ts';

const sb = sandbox();
after(() => sb.cleanup());
const SECRET = 'npm_state-loss-secret-value';
const PRE_BEFORE = 'the shell had this before';
const PRE_SECRET = 'pre-secret-from-keyrack';
const dataDir = join(sb.env.XDG_DATA_HOME!, 'keyrack');

/** Stores the two keys and trusts the project: again after the data dir is gone. */
async function setUp(proj: string): Promise<void> {
  for (const [name, value] of [['NPM_TOKEN', SECRET], ['PRE', PRE_SECRET]]) {
    const r = await keyrack(['set', name!, '--vault', 'os.direct'], { env: sb.env, input: `${value}\n` });
    assert.equal(r.code, 0, r.stderr);
  }
  const a = await keyrack(['allow', proj], { env: sb.env });
  assert.equal(a.code, 0, a.stderr);
}

const hints = (out: string) => out.split(/\r?\n/).filter((l) => l.includes('keyrack:')).map((l) => l.replace(/^[\s\S]*?keyrack:/, 'keyrack:').trim());

/** Every shell keyrack hooks: each hook keeps an unexported copy of the state. */
const HOOKED = ['bash', 'zsh', 'fish', 'tcsh', 'elvish'] as const;
const unsetState: Record<(typeof HOOKED)[number], string> = {
  bash: 'unset KEYRACK_STATE', zsh: 'unset KEYRACK_STATE', fish: 'set -e KEYRACK_STATE', tcsh: 'unsetenv KEYRACK_STATE', elvish: 'unset-env KEYRACK_STATE',
};
const garbleState: Record<(typeof HOOKED)[number], string> = {
  bash: "export KEYRACK_STATE='1 NPM_TOKEN:zz'", zsh: "export KEYRACK_STATE='1 NPM_TOKEN:zz'", fish: "set -gx KEYRACK_STATE '1 NPM_TOKEN:zz'",
  tcsh: "setenv KEYRACK_STATE '1 NPM_TOKEN:zz'", elvish: "set-env KEYRACK_STATE '1 NPM_TOKEN:zz'",
};

for (const shell of HOOKED) {
  test(`${shell}: leaving removes what keyrack set after its state was lost, or says loudly what it could not`, async (t) => {
    if (!requireTool(shell)) return t.skip(`${shell} missing`);
    const base = join(sb.dir, shell);
    const proj = join(base, 'proj');
    mkdirSync(proj, { recursive: true });
    writeFileSync(join(proj, '.keyrack'), 'NPM_TOKEN\nPRE\n');
    await setUp(proj);
    const s = await ShellSession.start(shell, sb, { cwd: base, env: { PRE: PRE_BEFORE } });
    /** cd in, check both keys are set; then `spoil`, cd out, check both are gone (PRE back to the shell's own). */
    const loseAndLeave = async (what: string, spoil: () => Promise<unknown>, said: RegExp) => {
      await s.run(`cd ${proj}`);
      let env = await s.env();
      assert.equal(env.get('NPM_TOKEN')?.toString(), SECRET, `${what}: loaded`);
      assert.equal(env.get('PRE')?.toString(), PRE_SECRET, `${what}: loaded`);
      await spoil();
      const out = await s.run(`cd ${base}`);
      env = await s.env();
      assert.equal(env.has('NPM_TOKEN'), false, `${what}: NPM_TOKEN stayed in the shell after leaving; said: ${JSON.stringify(hints(out))}`);
      assert.equal(env.get('PRE')?.toString(), PRE_BEFORE, `${what}: the shell's own PRE is back`);
      assert.match(hints(out).join('\n'), said, what);
      assert.doesNotMatch(out, /unbound|permission denied|not found|error/i, `${what}: no shell noise`);
      return out;
    };
    try {
      // The data dir (fingerprint key, vaults, trust) removed: a new key is made, the old fingerprints cannot be checked.
      await loseAndLeave('data dir removed', async () => rmSync(dataDir, { recursive: true, force: true }),
        /-NPM_TOKEN -PRE.*fingerprint key .* was replaced/);
      await setUp(proj);

      // A corrupted fingerprint key: nothing can be fingerprinted, so nothing stays.
      await loseAndLeave('fingerprint key corrupted', async () => writeFileSync(join(dataDir, 'fingerprint.key'), 'short'),
        /-NPM_TOKEN -PRE.*fingerprint\.key is not a 32-byte key/);
      rmSync(join(dataDir, 'fingerprint.key'));

      // KEYRACK_STATE unset, or replaced with something unreadable, by hand.
      await loseAndLeave('KEYRACK_STATE unset', () => s.run(unsetState[shell]), /-NPM_TOKEN -PRE/);
      await loseAndLeave('KEYRACK_STATE garbled', () => s.run(garbleState[shell]), /-NPM_TOKEN -PRE/);
    } finally {
      await s.close();
    }
  });
}
