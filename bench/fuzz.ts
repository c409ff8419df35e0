/**
 * The long protocol fuzz: thousands of hostile connections over a minute against a
 * live daemon (as root: in its own audit session, with refused callers from
 * outside it all along), then the same checks as test/e2e/daemon-fuzz.test.ts, and a
 * summary. Seeded; the seed is printed, and `--seed N` replays a run.
 *
 *   npm run -s build && node --import tsx bench/fuzz.ts [--seconds 60] [--concurrency 32] [--seed N]
 */
import { parseArgs } from 'node:util';
import { sandbox } from '../test/helpers.ts';
import { scenario } from '../test/fuzz/fuzz-run.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    concurrency: { type: 'string', default: '32' },
    seed: { type: 'string', default: String(Date.now() % 2 ** 31) },
    huge: { type: 'string', default: '0.03' },
  },
});
const seconds = Number(values.seconds);
const seed = Number(values.seed);

const sb = sandbox();
const env = sb.env;

const mib = (kb: number) => `${(kb / 1024).toFixed(1)} MiB`;
const t0 = Date.now();
try {
  const r = await scenario({
    seconds, seed, concurrency: Number(values.concurrency), hugeShare: Number(values.huge), env,
    say: (s) => console.log(s),
  });
  const f = r.fuzz;
  const problems: string[] = [];
  if (r.pidAfter !== r.pidBefore) problems.push(`daemon pid changed: ${r.pidBefore} → ${r.pidAfter}`);
  if (!r.canaryIntact) problems.push('canary values lost or changed');
  if (f.badFrames > 0) problems.push(`${f.badFrames} frames from the daemon were not JSON objects`);
  if (f.noHello > 0) problems.push(`${f.noHello} own-session connections got no hello`);
  if (r.refused.leaks > 0) problems.push(`${r.refused.leaks} refused callers saw a value`);
  if (r.refused.otherFrames > 0) problems.push(`${r.refused.otherFrames} frames other than a refusal went to refused callers`);
  if (r.logLeaks.length > 0) problems.push(`a value in ${r.logLeaks.join(', ')}`);
  if (r.rssAfterKb >= r.rssBaselineKb + 30 * 1024) problems.push('RSS did not come back within 30 MiB of the baseline');
  if (r.fdsAfter > r.fdsBaseline + 2) problems.push(`open fds grew from ${r.fdsBaseline} to ${r.fdsAfter}`);

  console.log(`\nkeyrack protocol fuzz — seed ${seed}, ${f.seconds.toFixed(1)} s, ${(Date.now() - t0) / 1000} s in all`);
  console.log(`  connections        ${f.connections} (${(f.connections / f.seconds).toFixed(0)}/s), ${(f.bytesSent / 1048576).toFixed(1)} MiB sent`);
  console.log(`  by kind            ${Object.entries(f.byKind).sort().map(([k, n]) => `${k} ${n}`).join(', ')}`);
  console.log(`  answers            ${f.okAnswers} ok, ${f.errorAnswers} errors; ${f.closedByDaemon} connections closed by the daemon`);
  console.log(`  bad frames         ${f.badFrames} (must be 0)`);
  console.log(`  refused callers    ${r.ownSession ? `${r.refused.attempts} attempts (${r.refused.sessionProbes} from another session), ${r.refused.refusedFrames} refusals, ${r.refused.leaks} leaks, ${r.refused.otherFrames} other frames; ${r.auditRefusedRecords} audit records` : 'not tested (not root: uid-only daemon)'}`);
  console.log(`  daemon             pid ${r.pidBefore} → ${r.pidAfter}; canaries ${r.canaryIntact ? 'intact' : 'LOST'}`);
  console.log(`  open fds           ${r.fdsBaseline} after the warm-up, ${r.fdsAfter} after the fuzz`);
  console.log(`  RSS                baseline ${mib(r.rssBaselineKb)}, peak ${mib(r.rssPeakKb)}, after settling ${mib(r.rssAfterKb)}`);
  console.log(problems.length === 0 ? '\nOK' : `\nPROBLEMS:\n  ${problems.join('\n  ')}`);
  process.exitCode = problems.length === 0 ? 0 : 1;
} finally {
  sb.cleanup();
}
