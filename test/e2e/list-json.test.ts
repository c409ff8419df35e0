/**
 * `keyrack list --json` keeps the schema documented in docs/json.md: every vault
 * and every state, checked field by field, and the document's field table agrees
 * with what the CLI prints.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { keyrack, ROOT, sandbox, type Sandbox } from '../helpers.ts';

const PASS = 'list json passphrase';
const FIELDS: Record<string, string[]> = {
  'os.secure': ['name', 'vault', 'state'],
  'os.direct': ['name', 'vault', 'state'],
  '1password': ['name', 'vault', 'ref', 'state'],
  'aws.sso': ['name', 'vault', 'profile', 'state'],
  pass: ['name', 'vault', 'ref', 'state'],
  keyring: ['name', 'vault', 'ref', 'state'],
  hashicorp: ['name', 'vault', 'ref', 'state'],
  'aws.secrets': ['name', 'vault', 'ref', 'state'],
  'aws.ssm': ['name', 'vault', 'ref', 'profile', 'state'],
  cmd: ['name', 'vault', 'argv', 'state'],
  team: ['name', 'vault', 'file', 'state'],
};

/** Checks a document against the version-2 schema; returns its keys. */
function checkSchema(doc: unknown): Array<Record<string, string>> {
  assert.ok(typeof doc === 'object' && doc !== null && !Array.isArray(doc));
  const d = doc as Record<string, unknown>;
  assert.deepEqual(Object.keys(d), ['version', 'keys']);
  assert.equal(d.version, 2);
  assert.ok(Array.isArray(d.keys));
  const keys = d.keys as Array<Record<string, string>>;
  for (const k of keys) {
    assert.ok(Object.hasOwn(FIELDS, k.vault!), `known vault: ${k.vault}`);
    assert.deepEqual(Object.keys(k), FIELDS[k.vault!], `fields of a ${k.vault} key`);
    for (const [f, v] of Object.entries(k)) {
      if (f === 'argv') assert.ok(Array.isArray(v) && v.length > 0 && v.every((a: unknown) => typeof a === 'string'), 'argv: a list of strings');
      else assert.equal(typeof v, 'string', f);
    }
    assert.match(k.name!, /^[A-Za-z_][A-Za-z0-9_.-]*$/);
    const states = k.vault === 'team' ? ['locked', 'ready', 'overridden'] : ['ready', 'locked', 'absent'];
    assert.ok(states.includes(k.state!), `${k.name}: ${k.state}`);
  }
  const names = keys.map((k) => k.name!);
  assert.deepEqual(names, [...names].sort(), 'sorted by name');
  // A registry key comes before the team key of the same name.
  keys.forEach((k, i) => { if (i > 0 && keys[i - 1]!.name === k.name) assert.equal(k.vault, 'team'); });
  return keys;
}

describe('list --json schema', () => {
  let sb: Sandbox;
  before(async () => {
    sb = sandbox();
    assert.equal((await keyrack(['init'], { env: sb.env, input: `${PASS}\n` })).code, 0);
    const sets: Array<[string[], string?]> = [
      [['set', 'b_secure'], 'v'],
      [['set', 'A_SECURE_HELD'], 'v'],
      [['set', 'D.direct', '--vault', 'os.direct'], 'v'],
      [['set', 'OP', '--vault', '1password', '--ref', 'op://Private/npm/token']],
      [['set', 'AWS_PROD', '--vault', 'aws.sso', '--profile', 'prod']],
      [['set', 'PASS', '--vault', 'pass', '--ref', 'team/db#user']],
      // No value on stdin: a reference to an existing keyring item (no keyring needed to set it).
      [['set', 'RING', '--vault', 'keyring', '--ref', 'service=github,user=me'], ''],
      [['set', 'VAULT', '--vault', 'hashicorp', '--ref', 'secret/app#token']],
      [['set', 'SM', '--vault', 'aws.secrets', '--ref', 'prod/db#password']],
      [['set', 'SSM', '--vault', 'aws.ssm', '--ref', '/prod/api/key', '--profile', 'prod']],
      [['set', 'CMD', '--vault', 'cmd', '--', 'printf', '%s', 'x y']],
    ];
    for (const [args, input] of sets) {
      const r = await keyrack(args, { env: sb.env, input });
      assert.equal(r.code, 0, r.stderr);
    }
  });
  after(() => sb.cleanup());

  test('every vault and state, field by field', async () => {
    const unlock = await keyrack(['unlock', 'A_SECURE_HELD'], { env: sb.env, input: `${PASS}\n` });
    assert.equal(unlock.code, 0, unlock.stderr);
    const r = await keyrack(['list', '--json'], { env: sb.env });
    assert.equal(r.code, 0, r.stderr);
    const keys = checkSchema(JSON.parse(r.stdout));
    assert.deepEqual(keys, [
      { name: 'AWS_PROD', vault: 'aws.sso', profile: 'prod', state: 'locked' },
      { name: 'A_SECURE_HELD', vault: 'os.secure', state: 'ready' },
      { name: 'CMD', vault: 'cmd', argv: ['printf', '%s', 'x y'], state: 'locked' },
      { name: 'D.direct', vault: 'os.direct', state: 'ready' },
      { name: 'OP', vault: '1password', ref: 'op://Private/npm/token', state: 'locked' },
      { name: 'PASS', vault: 'pass', ref: 'team/db#user', state: 'locked' },
      { name: 'RING', vault: 'keyring', ref: 'service=github,user=me', state: 'locked' },
      { name: 'SM', vault: 'aws.secrets', ref: 'prod/db#password', state: 'locked' },
      { name: 'SSM', vault: 'aws.ssm', ref: '/prod/api/key', profile: 'prod', state: 'locked' },
      { name: 'VAULT', vault: 'hashicorp', ref: 'secret/app#token', state: 'locked' },
      { name: 'b_secure', vault: 'os.secure', state: 'locked' },
    ]);
    // A local key whose vault lost its value is absent (unlock could not get it), in list and status alike.
    const file = join(sb.env.XDG_DATA_HOME!, 'keyrack', 'secure', 'keys', 'b_secure.age');
    const saved = readFileSync(file);
    rmSync(file);
    try {
      const gone = checkSchema(JSON.parse((await keyrack(['list', '--json'], { env: sb.env })).stdout));
      assert.equal(gone.find((k) => k.name === 'b_secure')!.state, 'absent');
    } finally {
      writeFileSync(file, saved);
    }
    await keyrack(['daemon', 'stop'], { env: sb.env });
  });

  test('in a project with a team file: its keys too, and a registry key of the same name overrides one', async () => {
    const proj = join(sb.dir, 'proj');
    mkdirSync(proj);
    writeFileSync(join(proj, '.keyrack'), 'TEAM_ONLY\nb_secure\n');
    const opts = { env: sb.env, cwd: proj };
    for (const [args, input] of [[['team', 'init', '--label', 'me']], [['team', 'set', 'TEAM_ONLY'], 't'], [['team', 'set', 'b_secure'], 't'], [['allow']]] as Array<[string[], string?]>) {
      const r = await keyrack(args, { ...opts, input });
      assert.equal(r.code, 0, r.stderr);
    }
    assert.equal((await keyrack(['unlock', 'TEAM_ONLY'], { ...opts, input: `${PASS}\n` })).code, 0);
    const r = await keyrack(['list', '--json'], opts);
    assert.equal(r.code, 0, r.stderr);
    const file = join(proj, '.keyrack.team');
    const keys = checkSchema(JSON.parse(r.stdout)).filter((k) => k.vault === 'team' || k.name === 'b_secure');
    assert.deepEqual(keys, [
      { name: 'TEAM_ONLY', vault: 'team', file, state: 'ready' },
      { name: 'b_secure', vault: 'os.secure', state: 'locked' },
      { name: 'b_secure', vault: 'team', file, state: 'overridden' },
    ]);
    await keyrack(['daemon', 'stop'], { env: sb.env });
  });

  test('a bad registry: exit 2 and no document on stdout', async () => {
    const bad = sandbox();
    try {
      mkdirSync(join(bad.env.XDG_CONFIG_HOME!, 'keyrack'), { recursive: true, mode: 0o700 });
      writeFileSync(join(bad.env.XDG_CONFIG_HOME!, 'keyrack', 'registry.json'), '{');
      const r = await keyrack(['list', '--json'], { env: bad.env });
      assert.equal(r.code, 2);
      assert.equal(r.stdout, '');
    } finally {
      bad.cleanup();
    }
  });

  test('docs/json.md documents exactly these fields and values', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'json.md'), 'utf8');
    const section = doc.slice(doc.indexOf('## `keyrack list --json`'), doc.indexOf('## `keyrack status --json`'));
    const documented = [...section.matchAll(/^\| `([a-z[\].]+)` \|/gm)].map((m) => m[1]!.replace('keys[].', ''));
    const printed = new Set(['version', 'keys', ...Object.values(FIELDS).flat()]);
    assert.deepEqual(new Set(documented), printed);
    for (const word of [...Object.keys(FIELDS), 'ready', 'locked', 'absent', 'overridden']) assert.ok(section.includes(`\`${word}\``), word);
    // The example parses and passes the schema check.
    const example = /```json\n([\s\S]*?)```/.exec(section);
    assert.ok(example);
    checkSchema(JSON.parse(example[1]!));
  });
});
