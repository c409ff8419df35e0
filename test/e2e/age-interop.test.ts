/**
 * keyrack's os.secure files are standard age files: the real `age` CLI opens the
 * identity with the passphrase (typed at a terminal, as age insists) and the key
 * files with that identity; and keyrack reads files that `age` wrote.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { KEYRACK, keyrack, requireTool, run, sandbox, type Sandbox } from '../helpers.ts';
import { Pty } from '../pty.ts';
import { files } from '../../src/paths.ts';
import { vault as secure } from '../../src/vaults/secure.ts';
import type { FetchContext } from '../../src/vaults/vault.ts';

const PASS = 'interop pässphrase';
const VALUE = `line one\nline "two" $x \`y\` \\ é 🔑\r\n\ttrailing `;

const age = requireTool('age');
const ageKeygen = requireTool('age-keygen');

/** Runs age in a pty, answers its passphrase prompt(s), returns its exit code. */
async function ageWithPassphrase(args: string[], passphrase: string, prompts = 1): Promise<number> {
  const pty = new Pty(['age', ...args]);
  for (let i = 0; i < prompts; i++) {
    await pty.expect(/passphrase[^:]*: /i);
    pty.write(`${passphrase}\r`);
  }
  const code = await pty.exited;
  assert.equal(code, 0, pty.output);
  return code;
}

function ctx(env: NodeJS.ProcessEnv, passphrase: string): FetchContext {
  return { env, passphrase: async () => passphrase, progress: () => {}, interactive: false };
}

describe('age interop', { skip: !age || !ageKeygen }, () => {
  let sb: Sandbox;
  before(async () => {
    sb = sandbox();
    // init on a terminal: the passphrase is asked twice, hidden.
    const pty = new Pty([process.execPath, KEYRACK, 'init'], { env: sb.env });
    await pty.expect('New os.secure passphrase: ');
    pty.write(`${PASS}\r`);
    await pty.expect('Same passphrase again: ');
    pty.write(`${PASS}\r`);
    assert.equal(await pty.exited, 0, pty.output);
    const set = await keyrack(['set', 'INTEROP'], { env: sb.env, input: VALUE });
    assert.equal(set.code, 0, set.stderr);
  });
  after(() => sb.cleanup());

  test('age -d opens the identity with the passphrase; age -d -i opens a key with it', async () => {
    const idTxt = join(sb.dir, 'identity.txt');
    await ageWithPassphrase(['-d', '-o', idTxt, files.identity(sb.env)], PASS);
    const id = readFileSync(idTxt, 'utf8');
    const recipient = readFileSync(files.recipient(sb.env), 'utf8').trim();
    assert.match(id, /^AGE-SECRET-KEY-1[0-9A-Z]+$/m);
    assert.ok(id.includes(`# public key: ${recipient}`));
    // age-keygen -y derives the public key from the identity: it must be the stored recipient.
    const y = await run('age-keygen', ['-y', idTxt], {});
    assert.equal(y.stdout.trim(), recipient);

    const dec = await run('age', ['-d', '-i', idTxt, files.secureKey('INTEROP', sb.env)], {});
    assert.equal(dec.code, 0, dec.stderr);
    assert.equal(dec.stdout, VALUE, 'byte-exact');
  });

  test('age also takes the passphrase-encrypted identity file itself as -i', async () => {
    const out = join(sb.dir, 'value.out');
    await ageWithPassphrase(['-d', '-i', files.identity(sb.env), '-o', out, files.secureKey('INTEROP', sb.env)], PASS);
    assert.equal(readFileSync(out, 'utf8'), VALUE);
  });

  test('keyrack reads key files that age encrypted to the recipient', async () => {
    const recipient = readFileSync(files.recipient(sb.env), 'utf8').trim();
    const enc = await run('age', ['-r', recipient, '-o', files.secureKey('FROM_AGE', sb.env)], { input: 'written by age' });
    assert.equal(enc.code, 0, enc.stderr);
    const got = await secure.fetch([
      { name: 'INTEROP', entry: { vault: 'os.secure' } },
      { name: 'FROM_AGE', entry: { vault: 'os.secure' } },
    ], ctx(sb.env, PASS));
    assert.deepEqual(got.get('INTEROP'), { value: VALUE });
    assert.deepEqual(got.get('FROM_AGE'), { value: 'written by age' });
  });

  test('keyrack opens an identity that age-keygen made and age -p encrypted', async () => {
    const other = sandbox();
    try {
      const dir = files.secureDir(other.env);
      mkdirSync(join(dir, 'keys'), { recursive: true, mode: 0o700 });
      const plainId = join(other.dir, 'id.txt');
      assert.equal((await run('age-keygen', ['-o', plainId], {})).code, 0);
      const recipient = (await run('age-keygen', ['-y', plainId], {})).stdout.trim();
      writeFileSync(files.recipient(other.env), `${recipient}\n`, { mode: 0o600 });
      await ageWithPassphrase(['-p', '-o', files.identity(other.env), plainId], 'made by age', 2);
      // keyrack encrypts to that recipient, then reads it back through the age-made identity.
      const set = await keyrack(['set', 'K'], { env: other.env, input: 'v1' });
      assert.equal(set.code, 0, set.stderr);
      const got = await secure.fetch([{ name: 'K', entry: { vault: 'os.secure' } }], ctx(other.env, 'made by age'));
      assert.deepEqual(got.get('K'), { value: 'v1' });
    } finally {
      other.cleanup();
    }
  });
});
