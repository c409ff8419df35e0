/**
 * Protocol fuzz against a live daemon, short form (a few seconds; the long form is
 * bench/fuzz.ts). Seeded: a failure names its seed, and KEYRACK_FUZZ_SEED=<seed>
 * replays it. See test/fuzz/fuzz-run.ts for the scenario: hostile connections
 * from inside the daemon's session, refused callers from outside it meanwhile.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sandbox } from '../helpers.ts';
import { scenario } from '../fuzz/fuzz-run.ts';

const SEED = Number(process.env.KEYRACK_FUZZ_SEED ?? 0x6b657972);
const MB = 1024;

test(`a fuzzed daemon keeps its pid, keeps serving, leaks nothing to refused callers, and gives memory back (seed ${SEED})`, async () => {
  const sb = sandbox();
  try {
    // At least 300 connections however slow the machine: what is asserted never depends on its speed.
    const r = await scenario({ seconds: 4, minConnections: 300, seed: SEED, concurrency: 12, hugeShare: 0.03, env: sb.env });
    const f = r.fuzz;
    const info = JSON.stringify({ ...r, driverStderr: undefined });

    // It really fuzzed: many connections of every kind, most of them answered or cut off.
    assert.ok(f.connections >= 200, `only ${f.connections} connections: ${info}`);
    for (const kind of ['random', 'mutated', 'truncated', 'invalid-utf8', 'deep-nesting', 'slow-writer', 'valid-burst', 'bad-op']) {
      assert.ok((f.byKind[kind] ?? 0) > 0, `no ${kind} connection: ${info}`);
    }
    assert.ok(f.okAnswers > 0 && f.errorAnswers > 0 && f.closedByDaemon > 0, info);
    assert.equal(f.badFrames, 0, `the daemon sent something that is not a JSON object: ${info}`);
    assert.equal(f.noHello, 0, `a caller of the daemon's own session went unanswered: ${info}`);

    // The same daemon, still serving the canaries.
    assert.equal(r.pidAfter, r.pidBefore, info);
    assert.ok(r.canaryIntact, `canary values changed or lost: ${info}`);

    // Memory back near the baseline (generous: V8 keeps some heap once grown).
    assert.ok(r.rssAfterKb > 0 && r.rssAfterKb < r.rssBaselineKb + 30 * MB, `RSS ${r.rssAfterKb} kB after, baseline ${r.rssBaselineKb} kB: ${info}`);

    // Every connection's file descriptors (socket, /proc handle) were closed.
    assert.ok(r.fdsBaseline > 0 && r.fdsAfter <= r.fdsBaseline + 2, `fds ${r.fdsBaseline} → ${r.fdsAfter}: ${info}`);

    // Refused callers saw a refusal and nothing else; no log holds a value.
    assert.deepEqual(r.logLeaks, [], info);
    if (r.ownSession) {
      assert.ok(r.refused.attempts >= 20 && r.refused.sessionProbes === 3, info);
      assert.equal(r.refused.leaks, 0, `a refused caller saw a value: ${info}`);
      assert.equal(r.refused.otherFrames, 0, `a refused caller got more than a refusal: ${info}`);
      assert.ok(r.refused.refusedFrames >= r.refused.attempts * 0.9, `refusals: ${info}`);
      assert.ok(r.auditRefusedRecords > 0, `refusals are in the audit log: ${info}`);
    } else {
      assert.ok(!process.env.CI, `in CI (as root) the refused-caller half must run: ${info}`);
      process.stderr.write('\n*** not root: the daemon runs uid-only here, so refused callers were not tested ***\n\n');
    }
  } finally {
    sb.cleanup();
  }
});
