/**
 * `keyrack status --json` keeps the schema documented in docs/json.md: the fields
 * the CLI prints (with a daemon, held keys of both shapes, one with an idle limit, one held for exec only, and a manifest with an exec-only key) are
 * exactly the documented ones, and the documented example has the same shape.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, keyrack, run, sandbox } from '../helpers.ts';

/** Field paths of a document: `daemon.pid`, `keys[].name`, … (containers included). */
function paths(v: unknown, prefix = ''): string[] {
  if (Array.isArray(v)) return v.flatMap((x) => (typeof x === 'object' && x !== null ? paths(x, `${prefix}[]`) : []));
  if (typeof v !== 'object' || v === null) return [];
  return Object.entries(v).flatMap(([k, x]) => {
    const p = prefix ? `${prefix}.${k}` : k;
    return [p, ...(k === 'vars' ? [] : paths(x, p))];
  });
}

test('status --json prints exactly the fields docs/json.md documents', async () => {
  const sb = sandbox();
  try {
    const conf = join(sb.env.XDG_CONFIG_HOME!, 'keyrack');
    mkdirSync(conf, { recursive: true, mode: 0o700 });
    writeFileSync(join(conf, 'registry.json'), JSON.stringify({ version: 1, keys: { A: { vault: 'os.secure', execOnly: true }, B: { vault: 'os.secure' } } }), { mode: 0o600 });
    const proj = join(sb.home, 'proj');
    mkdirSync(proj);
    writeFileSync(join(proj, '.keyrack'), 'A\nX = B\nC?\n');
    assert.equal((await keyrack(['allow'], { env: sb.env, cwd: proj })).code, 0);
    assert.equal((await keyrack(['daemon', 'start'], { env: sb.env })).code, 0);
    const sock = (JSON.parse((await keyrack(['status', '--json'], { env: sb.env })).stdout) as { socket: string }).socket;
    const puts = [
      { id: 1, op: 'put', ttlMs: 600_000, keys: { A: { value: 'a' } }, execOnly: true },
      { id: 1, op: 'put', ttlMs: 600_000, idleMs: 300_000, keys: { B: { env: { X1: '1', X2: '2' } } } },
    ];
    for (const put of puts) {
      assert.match((await run(process.execPath, [join(ROOT, 'test', 'sockets', 'probe.mjs'), sock, JSON.stringify(put)], {})).stdout, /"ok":true/);
    }

    const r = await keyrack(['status', '--json'], { env: sb.env, cwd: proj });
    assert.equal(r.code, 0, r.stderr);
    const printed = new Set(paths(JSON.parse(r.stdout)));

    const doc = readFileSync(join(ROOT, 'docs', 'json.md'), 'utf8');
    const section = doc.slice(doc.indexOf('## `keyrack status --json`'));
    const documented = new Set([...section.matchAll(/^\| `([A-Za-z[\].]+)` \|/gm)].map((m) => m[1]!));
    assert.deepEqual(printed, documented);
    const example = /```json\n([\s\S]*?)```/.exec(section);
    assert.ok(example);
    assert.deepEqual(new Set(paths(JSON.parse(example[1]!))), documented);
  } finally {
    sb.cleanup();
  }
});
