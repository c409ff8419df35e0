/**
 * `keyrack exec --mask` (issue 14), through both exec paths — keyrack-fast with
 * the variables from a real daemon, and the Node CLI handing over to
 * `keyrack-fast --masked` — against a program that prints every value in pieces,
 * split at random (seeded) points, in both streams, with pauses so the pieces
 * arrive in separate reads. Each stream must come out exactly as written with
 * every value (each line of a multi-line one) replaced by <NAME>: no value shows,
 * the bytes around them (binary included) are unchanged and in order. Plus exit
 * status, signals and stdin behave as without masking, and the default follows
 * whether stdout/stderr are terminals.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KEYRACK, ROOT, keyrack, requireTool, sandbox } from '../helpers.ts';
import { Pty } from '../pty.ts';
import { rng } from '../fuzz/fuzzer.ts';

const FAST = join(ROOT, 'native', 'build', 'Release', 'keyrack-fast');
const sb = sandbox();
after(() => sb.cleanup());
const proj = join(sb.dir, 'proj');

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const r0 = rng(0x14);
const word = (n: number) => Array.from({ length: n }, () => ALNUM[Math.floor(r0() * ALNUM.length)]).join('');

/** 20 keys: random lengths 6–64, one a prefix of another, one of two lines; and one too short to mask. */
const KEYS = new Map<string, string>();
for (let i = 0; i < 17; i++) KEYS.set(`MK_${i}`, word(6 + Math.floor(r0() * 59)));
KEYS.set('MK_LONGER', `${KEYS.get('MK_0')!}${word(9)}`); // MK_0 is its prefix: the longer one wins
KEYS.set('MK_LINES', `${word(12)}\n${word(20)}`);
KEYS.set('MK_SHORT', 'q7Z');
const MASKED = [...KEYS].filter(([n]) => n !== 'MK_SHORT');

before(async () => {
  mkdirSync(proj);
  for (const [name, value] of KEYS) {
    const r = await keyrack(['set', name, '--vault', 'os.direct'], { env: sb.env, input: `${value}\n` });
    assert.equal(r.code, 0, r.stderr);
  }
  writeFileSync(join(proj, '.keyrack'), [...KEYS.keys()].join('\n') + '\n');
  assert.equal((await keyrack(['allow', proj], { env: sb.env })).code, 0);
});

/** Filler that holds no letter or digit, so no value can occur in it by chance; binary bytes too. */
function filler(r: () => number): Buffer {
  const n = Math.floor(r() * 40);
  const bytes = Buffer.alloc(n);
  for (let i = 0; i < n; i++) {
    const k = r();
    bytes[i] = k < 0.1 ? 0x0a : k < 0.3 ? 0x80 + Math.floor(r() * 0x80) : k < 0.4 ? Math.floor(r() * 9) : ' .,;:!~-_=+*#<>[]{}()/\\|'.charCodeAt(Math.floor(r() * 24));
  }
  return bytes;
}

interface Plan { pieces: Array<[1 | 2, string, number]>; expected: [Buffer, Buffer]; written: [Buffer, Buffer] }

/** What the printer writes (each value several times per stream, split anywhere) and what must come out. */
function plan(seed: number): Plan {
  const r = rng(seed);
  const written: [Buffer[], Buffer[]] = [[], []];
  const expected: [Buffer[], Buffer[]] = [[], []];
  for (const s of [0, 1] as const) {
    for (let round = 0; round < 4; round++) {
      for (const [name, value] of [...KEYS].sort(() => r() - 0.5)) {
        const f = filler(r);
        written[s].push(f, Buffer.from(value));
        expected[s].push(f);
        if (name === 'MK_SHORT') expected[s].push(Buffer.from(value));
        else expected[s].push(Buffer.from(value.split('\n').map(() => `<${name}>`).join('\n')));
      }
    }
    written[s].push(Buffer.from('\nend\n'));
    expected[s].push(Buffer.from('\nend\n'));
  }
  const w: [Buffer, Buffer] = [Buffer.concat(written[0]), Buffer.concat(written[1])];
  // Split each stream at random points, then interleave the pieces at random.
  const queues = w.map((buf) => {
    const out: Buffer[] = [];
    for (let at = 0; at < buf.length;) {
      const n = 1 + Math.floor(r() * 24);
      out.push(buf.subarray(at, at + n));
      at += n;
    }
    return out;
  });
  const pieces: Plan['pieces'] = [];
  while (queues[0]!.length || queues[1]!.length) {
    const s = queues[0]!.length && (!queues[1]!.length || r() < 0.5) ? 0 : 1;
    pieces.push([(s + 1) as 1 | 2, queues[s]!.shift()!.toString('base64'), r() < 0.15 ? 2 : 0]);
  }
  return { pieces, expected: [Buffer.concat(expected[0]), Buffer.concat(expected[1])], written: w };
}

/** Writes each piece with its own write(2), pausing now and then so pieces land in separate reads. */
const PRINTER = `
const fs = require('fs');
const pieces = JSON.parse(fs.readFileSync(process.argv[1], 'utf8'));
const pause = new Int32Array(new SharedArrayBuffer(4));
for (const [fd, b64, ms] of pieces) {
  fs.writeSync(fd, Buffer.from(b64, 'base64'));
  if (ms) Atomics.wait(pause, 0, 0, ms);
}`;

interface Ran { code: number | null; signal: NodeJS.Signals | null; stdout: Buffer; stderr: Buffer }

/** `via`: 'fast' = the keyrack launcher (keyrack-fast, daemon running); 'node' = the Node CLI itself. */
function execVia(via: 'fast' | 'node', args: string[], o: { input?: Buffer | string; onStdout?: (s: string, kill: (sig: NodeJS.Signals) => void) => void } = {}): Promise<Ran> {
  const argv = via === 'fast' ? [FAST, process.execPath, KEYRACK, 'exec', ...args] : [process.execPath, KEYRACK, 'exec', ...args];
  return new Promise((resolve) => {
    // detached: no controlling terminal, as in CI (SIGINT is then passed on, like the others)
    const child = spawn(argv[0]!, argv.slice(1), { cwd: proj, env: { ...sb.env, PWD: proj }, detached: true });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => {
      out.push(d);
      o.onStdout?.(Buffer.concat(out).toString('latin1'), (sig) => child.kill(sig));
    });
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.stdin.on('error', () => {});
    child.stdin.end(o.input ?? '');
    child.on('close', (code, signal) => resolve({ code, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err) }));
  });
}

async function withDaemon<T>(fn: () => Promise<T>): Promise<T> {
  assert.equal((await keyrack(['daemon', 'start'], { env: sb.env })).code, 0);
  try {
    return await fn();
  } finally {
    await keyrack(['daemon', 'stop'], { env: sb.env });
  }
}

const VIAS = ['fast', 'node'] as const;

for (const via of VIAS) {
  test(`${via}: a program printing every value in random pieces in both streams shows none; everything else is byte-exact and in order`, async () => {
    const go = async () => {
      for (const seed of [1, 2, 3, 4, 5]) {
        const p = plan(seed * 7919);
        const file = join(sb.dir, `plan.${via}.${seed}.json`);
        writeFileSync(file, JSON.stringify(p.pieces));
        const r = await execVia(via, ['--', process.execPath, '-e', PRINTER, file]);
        assert.equal(r.code, 0, `seed ${seed}: ${r.stderr.toString()}`);
        const stderr = r.stderr.toString('latin1');
        const notes = stderr.match(/^keyrack: --mask: not masking MK_SHORT: shorter than 6 characters.*\n/gm) ?? [];
        assert.equal(notes.length, 1, `seed ${seed}: the short value is said once: ${JSON.stringify(stderr.slice(0, 300))}`);
        const cmdErr = r.stderr.subarray(Buffer.byteLength(notes[0]!, 'latin1'));
        for (const [name, value] of MASKED) {
          for (const line of value.split('\n')) {
            assert.equal(r.stdout.includes(line), false, `seed ${seed}: ${name} shows in stdout`);
            assert.equal(cmdErr.includes(line), false, `seed ${seed}: ${name} shows in stderr`);
          }
        }
        assert.ok(p.written[0].includes(MASKED[0]![1]), 'the printer did write the values');
        assert.ok(r.stdout.equals(p.expected[0]), `seed ${seed}: stdout is the program's with <NAME> for each value`);
        assert.ok(cmdErr.equals(p.expected[1]), `seed ${seed}: stderr is the program's with <NAME> for each value`);
      }
    };
    if (via === 'fast') await withDaemon(go);
    else await go();
  });

  test(`${via}: masked, exit status, signals and stdin are as without masking`, async () => {
    const go = async () => {
      const [v0] = MASKED[1]!;
      for (const mask of ['--mask', '--no-mask']) {
        const status = await execVia(via, [mask, '--', 'sh', '-c', 'exit 7']);
        assert.equal(status.code, 7, `${mask}: exit status`);
        const self = await execVia(via, [mask, '--', 'sh', '-c', 'kill -TERM $$']);
        assert.ok(self.signal === 'SIGTERM' || self.code === 143, `${mask}: a command killed by SIGTERM: ${self.code} ${self.signal}`);
        // A signal sent to keyrack reaches the command, which handles it and exits its own way.
        const trap = `trap 'echo "got TERM $${v0}"; exit 9' TERM; echo ready; while :; do sleep 0.05; done`;
        let sent = false;
        const forwarded = await execVia(via, [mask, '--', 'sh', '-c', trap], {
          onStdout: (s, kill) => { if (!sent && s.includes('ready')) { sent = true; kill('SIGTERM'); } },
        });
        assert.equal(forwarded.code, 9, `${mask}: the trap ran and its exit status came back: ${forwarded.stderr.toString()}`);
        const gotLine = forwarded.stdout.toString().split('\n').find((l) => l.startsWith('got TERM'));
        assert.equal(gotLine, mask === '--mask' ? `got TERM <${v0}>` : `got TERM ${KEYS.get(v0)!}`);
        for (const sig of ['SIGINT', 'SIGHUP'] as const) {
          let s2 = false;
          const r = await execVia(via, [mask, '--', 'sh', '-c', `trap 'exit 3' ${sig.slice(3)}; echo ready; while :; do sleep 0.05; done`], {
            onStdout: (s, kill) => { if (!s2 && s.includes('ready')) { s2 = true; kill(sig); } },
          });
          assert.equal(r.code, 3, `${mask}: ${sig} reaches the command`);
        }
        // stdin passes through unchanged; binary output with no value in it comes out unchanged.
        const bin = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7919 + (i >> 8)) & 0xff));
        for (const [, v] of MASKED) assert.equal(bin.includes(v.split('\n')[0]!), false, 'precondition: no value in the bytes');
        const cat = await execVia(via, [mask, '--', 'cat'], { input: bin });
        assert.equal(cat.code, 0);
        assert.ok(cat.stdout.equals(bin), `${mask}: stdin → cat → stdout is byte-exact (${cat.stdout.length} of ${bin.length} bytes)`);
      }
    };
    if (via === 'fast') await withDaemon(go);
    else await go();
  });
}

/** The masking rule, written plainly: leftmost occurrence first, the longest value at a position wins. */
function reference(input: Buffer, values: Array<[string, string]>): Buffer {
  const pats = values.flatMap(([n, v]) => v.split('\n').map((l) => [Buffer.from(l), Buffer.from(`<${n}>`)] as const)).filter(([l]) => l.length >= 6);
  const out: Buffer[] = [];
  let i = 0;
  for (;;) {
    let best = -1;
    let pick: (typeof pats)[number] | undefined;
    for (const p of pats) {
      const at = input.indexOf(p[0], i);
      if (at !== -1 && (best === -1 || at < best || (at === best && p[0].length > pick![0].length))) [best, pick] = [at, p];
    }
    if (best === -1 || !pick) break;
    out.push(input.subarray(i, best), pick[1]);
    i = best + pick[0].length;
  }
  out.push(input.subarray(i));
  return Buffer.concat(out);
}

test('fast: megabytes in large writes (letters, digits and binary around the values) come out as the plain rule says', async () => {
  await withDaemon(async () => {
    for (const seed of [11, 12, 13]) {
      const r = rng(seed);
      const parts: Buffer[] = [];
      let size = 0;
      while (size < 3 * 1024 * 1024) {
        const n = Math.floor(r() * 4000);
        const f = Buffer.alloc(n);
        for (let i = 0; i < n; i++) f[i] = r() < 0.7 ? ALNUM.charCodeAt(Math.floor(r() * ALNUM.length)) : Math.floor(r() * 256);
        const [, v] = MASKED[Math.floor(r() * MASKED.length)]!;
        // Sometimes a value cut short: a prefix that must pass through unmasked.
        const val = r() < 0.2 ? v.slice(0, Math.max(1, Math.floor(r() * v.length) - 1)) : v;
        parts.push(f, Buffer.from(val));
        size += n + val.length;
      }
      const input = Buffer.concat(parts);
      const file = join(sb.dir, `big.${seed}`);
      writeFileSync(file, input);
      const got = await execVia('fast', ['--mask', '--', 'cat', file]);
      assert.equal(got.code, 0, got.stderr.toString());
      const want = reference(input, MASKED);
      assert.ok(want.length < input.length, 'precondition: there was something to mask');
      if (!got.stdout.equals(want)) {
        let i = 0;
        while (got.stdout[i] === want[i]) i++;
        assert.fail(`seed ${seed}: differs at byte ${i} of ${want.length} (got ${got.stdout.length})`);
      }
    }
  });
});

test('by default: masked when stdout is a pipe, unmasked on a terminal; --no-mask / --mask override', async () => {
  const [name, value] = MASKED[2]!;
  const show = ['sh', '-c', `printf '%s\\n' "$${name}"`];
  const piped = await execVia('node', ['--', ...show]);
  assert.equal(piped.stdout.toString(), `<${name}>\n`, 'a pipe: masked');
  const unmasked = await execVia('node', ['--no-mask', '--', ...show]);
  assert.equal(unmasked.stdout.toString(), `${value}\n`, '--no-mask: the value');
  if (!requireTool('python3')) return;
  const onTty = new Pty([process.execPath, KEYRACK, 'exec', '--', ...show], { cwd: proj, env: { ...sb.env, PWD: proj } });
  await onTty.expect(value);
  assert.equal(await onTty.exited, 0);
  const maskedTty = new Pty([process.execPath, KEYRACK, 'exec', '--mask', '--', ...show], { cwd: proj, env: { ...sb.env, PWD: proj } });
  await maskedTty.expect(`<${name}>`);
  assert.equal(await maskedTty.exited, 0);
  assert.equal(maskedTty.output.includes(value), false, '--mask on a terminal: masked');
});
