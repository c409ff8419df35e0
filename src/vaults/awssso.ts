/**
 * The aws.sso vault: the registry keeps only a profile name; `unlock` asks the
 * AWS CLI v2 for that profile's credentials (`aws configure export-credentials`,
 * which resolves SSO, credential_process, static keys… exactly as `aws` would).
 * A key expands to AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN and
 * AWS_CREDENTIAL_EXPIRATION (those aws gives), and lives no longer than the
 * credentials do. When the SSO session is missing or expired and a person is
 * there, it runs `aws sso login` once and retries.
 */
import { KeyrackError, UserError } from '../errors.js';
import { FRAMES } from '../term.js';
import type { Env } from '../paths.js';
import type { RegistryEntry } from '../registry.js';
import {
  AWS_NOT_INSTALLED, awsEnv, looksLikeV1, parseExport, resolveV2, ssoSessionExpired, type AwsCredentials,
} from './aws-cli.js';
import { findOnPath, pool, runTool, seconds, timeoutFrom, toolMessage } from './tool.js';
import type { FetchContext, Fetched, Vault } from './vault.js';

export { awsCliVersion, type AwsCliVersion } from './aws-cli.js';

const EXPORT_TIMEOUT_S = 60;
const LOGIN_TIMEOUT_S = 300;
/** aws is a Python program that takes most of a core to start: a few at a time. */
const PARALLEL = 3;

/** Why a profile name is unusable, or null. */
export function profileProblem(profile: string | undefined): string | null {
  if (profile === undefined || profile === '') return 'an aws.sso key needs --profile P (a profile in your AWS config)';
  const show = JSON.stringify(profile.length > 80 ? profile.slice(0, 80) + '…' : profile);
  if (profile.length > 256) return 'AWS profile name is longer than 256 characters';
  if (/[\s\u0000-\u001f\u007f-\u009f]/.test(profile)) return `AWS profile name ${show} contains whitespace or a control character`;
  if (profile.startsWith('-')) return `AWS profile name ${show} must not start with "-"`;
  if (/[[\]]/.test(profile)) return `AWS profile name ${show} contains a bracket, which an AWS config section name cannot hold`;
  return null;
}

/** The first `aws` on a PATH → the v2 to run instead, once we had to look (kept for the daemon's refreshes). */
const chosen = new Map<string, Promise<{ path: string } | Error>>();

type ProfileResult =
  | { ok: AwsCredentials }
  | { error: string; user: boolean; sso?: boolean };

interface Run {
  env: Env;
  first: string;
  timeoutMs: number;
}

/** `aws configure export-credentials` for one profile, through a v2. */
async function exportCredentials(run: Run, profile: string): Promise<ProfileResult & { cli?: string }> {
  const args = ['configure', 'export-credentials', '--profile', profile, '--format', 'env-no-export'];
  const opts = { env: awsEnv(run.env), timeoutMs: run.timeoutMs };
  let cli = run.first;
  const known = chosen.get(run.first);
  if (known) {
    const k = await known;
    if (k instanceof Error) return { error: k.message, user: true };
    cli = k.path;
  }
  let r = await runTool(cli, args, opts);
  if (!known && looksLikeV1(r.code, r.stderr)) {
    let pick = chosen.get(run.first);
    if (!pick) chosen.set(run.first, (pick = resolveV2(run.first, run.env)));
    const k = await pick;
    if (k instanceof Error) {
      chosen.delete(run.first); // the user may install v2 while the daemon runs
      return { error: k.message, user: true };
    }
    cli = k.path;
    r = await runTool(cli, args, opts);
  }
  if (r.spawnError) {
    return r.spawnError.code === 'ENOENT'
      ? { error: AWS_NOT_INSTALLED, user: true }
      : { error: `could not run ${cli}: ${r.spawnError.code ?? r.spawnError.message}`, user: false };
  }
  if (r.timedOut) return { error: `aws configure export-credentials timed out after ${seconds(run.timeoutMs)} (killed)`, user: false, cli };
  if (r.code !== 0) {
    const line = toolMessage(firstLine(r.stderr)) || `exit ${r.code ?? 'by signal'}`;
    return { error: `aws: ${line}`, user: true, sso: ssoSessionExpired(r.stderr), cli };
  }
  const parsed = r.overflow ? 'its output is too large' : parseExport(r.stdout.toString('utf8'));
  if (typeof parsed === 'string') return { error: `unexpected output from aws configure export-credentials: ${parsed}`, user: false, cli };
  return { ok: parsed, cli };
}

function firstLine(s: string): string {
  return s.split(/\r?\n/).find((l) => l.trim() !== '') ?? '';
}

/**
 * `aws sso login --profile P`, which the user finishes in a browser. Its own
 * output (the URL and the code to enter) is shown on our stderr. On a terminal a
 * spinner with the time waited runs below it, redrawn in place; elsewhere a
 * progress line comes every 30 s. Gives up after the login timeout.
 */
async function ssoLogin(run: Run, cli: string, profile: string, ctx: FetchContext): Promise<string | null> {
  const timeoutMs = timeoutFrom(ctx.env, 'KEYRACK_SSO_LOGIN_TIMEOUT', LOGIN_TIMEOUT_S);
  const started = Date.now();
  const waited = () => `${Math.floor((Date.now() - started) / 1000)}s`;
  ctx.progress(`the AWS SSO session for profile ${profile} is missing or expired: running aws sso login --profile ${profile} — finish it in your browser (keyrack gives up after ${seconds(timeoutMs)})`);
  // Drawn with \r and spaces like term.ts's progress line (which cannot share the
  // stream with aws's own output, so this one steps aside for each chunk of it).
  const tty = process.stderr.isTTY === true && ctx.env.TERM !== 'dumb';
  let tick = 0;
  let drawn = 0;
  const clear = () => {
    if (drawn) process.stderr.write(`\r${' '.repeat(drawn)}\r`);
    drawn = 0;
  };
  const timer = tty
    ? setInterval(() => {
      const line = `${FRAMES[tick++ % FRAMES.length]} waiting for aws sso login… ${waited()}`;
      process.stderr.write(`\r${line}${' '.repeat(Math.max(0, drawn - line.length))}`);
      drawn = Math.max(drawn, line.length);
    }, 125)
    : setInterval(() => ctx.progress(`still waiting for aws sso login --profile ${profile} (${waited()} of ${seconds(timeoutMs)})`), 30_000);
  try {
    const r = await runTool(cli, ['sso', 'login', '--profile', profile], {
      env: awsEnv(run.env),
      timeoutMs,
      onOutput: (chunk) => { clear(); process.stderr.write(chunk); },
    });
    if (r.spawnError) return `could not run ${cli} sso login: ${r.spawnError.code ?? r.spawnError.message}`;
    if (r.timedOut) return `aws sso login did not finish within ${seconds(timeoutMs)}, so keyrack gave up; run aws sso login --profile ${profile}, then keyrack unlock again`;
    if (r.code !== 0) return `aws sso login --profile ${profile} failed (exit ${r.code ?? 'by signal'}; its output is above)`;
    return null;
  } finally {
    clearInterval(timer);
    clear();
  }
}

export const vault: Vault = {
  id: 'aws.sso',
  refreshable: true,

  validate(entry: RegistryEntry): string | null {
    return profileProblem(entry.profile);
  },

  async fetch(keys, ctx) {
    const out = new Map<string, Fetched | Error>();
    const byProfile = new Map<string, string[]>();
    for (const { name, entry } of keys) {
      const p = profileProblem(entry.profile);
      if (p) {
        out.set(name, new UserError(`aws.sso: ${p}; fix it with keyrack set ${name} --vault aws.sso --profile P`));
        continue;
      }
      const names = byProfile.get(entry.profile!) ?? [];
      names.push(name);
      byProfile.set(entry.profile!, names);
    }
    if (byProfile.size === 0) return out;

    const first = findOnPath('aws', ctx.env);
    if (!first) {
      for (const names of byProfile.values()) for (const n of names) out.set(n, new UserError(`aws.sso: ${AWS_NOT_INSTALLED}`));
      return out;
    }
    const run: Run = { env: ctx.env, first, timeoutMs: timeoutFrom(ctx.env, 'KEYRACK_AWS_TIMEOUT', EXPORT_TIMEOUT_S) };
    const profiles = [...byProfile.keys()];
    const results = new Map<string, ProfileResult & { cli?: string }>();
    (await pool(profiles, PARALLEL, (p) => exportCredentials(run, p))).forEach((r, i) => results.set(profiles[i]!, r));

    // Expired SSO sessions, one login at a time: profiles often share one SSO
    // session, so after a login the next profile may need none.
    let loggedIn = false;
    for (const p of profiles) {
      let r = results.get(p)!;
      if (!('error' in r) || !r.sso) continue;
      if (!ctx.interactive) {
        results.set(p, { error: `the AWS SSO session has expired (${r.error}); run keyrack unlock, which runs aws sso login --profile ${p}`, user: true });
        continue;
      }
      if (loggedIn) {
        r = await exportCredentials(run, p);
        results.set(p, r);
        if (!('error' in r) || !r.sso) continue;
      }
      const failed = await ssoLogin(run, r.cli ?? first, p, ctx);
      if (failed) {
        results.set(p, { error: failed, user: true });
        continue;
      }
      loggedIn = true;
      r = await exportCredentials(run, p);
      if ('error' in r && r.sso) r = { ...r, error: `aws sso login finished, but the credentials are still refused: ${r.error}` };
      results.set(p, r);
    }

    for (const [p, names] of byProfile) {
      const r = results.get(p)!;
      for (const n of names) {
        if ('ok' in r) {
          const v: Fetched = { env: { ...r.ok.env } };
          if (r.ok.expiresAt !== undefined) v.expiresAt = r.ok.expiresAt;
          out.set(n, v);
        }
        else {
          const msg = `aws.sso (profile ${p}): ${r.error}`;
          out.set(n, r.user ? new UserError(msg) : new KeyrackError(msg));
        }
      }
    }
    return out;
  },
};
