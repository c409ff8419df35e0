/**
 * `keyrack unlock [KEY…] [--all] [--ttl D] [--idle D]`: fetch values from their vaults into
 * the session daemon (starting it when needed). Default keys: the current
 * manifest's. One fetch per vault, so os.secure asks its passphrase once however
 * many keys, and the vaults run concurrently. One failing key does not stop the
 * others; any required failure → exit 2.
 *
 * Wrong passphrases back off: the daemon counts failures for this session and
 * tells us how long to wait before asking again (1 s, doubling, at most 30 s).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Cancelled, UserError, messageOf } from '../errors.js';
import { readPassphrase } from '../input.js';
import { loadManifest } from '../env/manifest.js';
import { currentDir } from '../env/scope.js';
import { assertKeyName } from '../env/names.js';
import { words } from '../env/readiness.js';
import { closest } from '../suggest.js';
import { loadRegistry, type VaultId } from '../registry.js';
import { durationFlag, formatDuration } from '../duration.js';
import { putChunks, startDaemon, withDaemon, type RequestBody } from '../daemon/client.js';
import { sizeProblem } from '../limits.js';
import type { Fetched, Unlocked } from '../secret.js';
import { DEFAULT_TTL_MS } from '../daemon/store.js';
import { vaultFor } from '../vaults/index.js';
import { WrongPassphrase } from '../vaults/secure.js';
import type { FetchContext, KeyRef, Vault } from '../vaults/vault.js';
import { TEAM_FILE } from '../team/file.js';
import { parseStoreName } from '../team/storename.js';
import { fetchTeamValues, teamPlan } from './team-resolve.js';
import { say } from '../say.js';

/**
 * The keys the daemon holds now (by store name), with the time each has left; empty
 * when none runs. A key held for exec only is not held for an unlock for shells.
 */
async function alreadyHeld(env: NodeJS.ProcessEnv, forExec: boolean): Promise<Map<string, number>> {
  const st = await withDaemon(env, async (c) => (await c.request({ op: 'status' })).status);
  const now = Date.now();
  return new Map((st?.keys ?? []).filter((k) => forExec || !k.execOnly).map((k) => [k.name, Math.max(0, k.expiresAt - now)]));
}

/** The keys to unlock, each marked required or not (optional manifest entries). */
function targets(keys: string[], all: boolean, registryKeys: string[]): Map<string, boolean> {
  const wanted = new Map<string, boolean>();
  for (const k of keys) {
    assertKeyName(k);
    wanted.set(k, true);
  }
  if (all) for (const k of registryKeys) wanted.set(k, true);
  if (keys.length === 0 && !all) {
    const m = loadManifest(currentDir(process.env));
    if (!m) throw new UserError('no .keyrack manifest in this directory or above: name the keys (keyrack unlock KEY…) or use --all');
    for (const e of m.entries) wanted.set(e.key, (wanted.get(e.key) ?? false) || !e.optional);
  }
  return wanted;
}

/**
 * How long a key `exec` unlocked on a terminal stays held: long enough for the next
 * few commands, and held for exec only, so the hook never puts it into a shell.
 */
export const EXEC_UNLOCK_TTL_MS = 15 * 60_000;

/** `forExec`: exec unlocks on the way (held for exec only, EXEC_UNLOCK_TTL_MS). */
export async function run(keys: string[], o: { all: boolean; ttl?: string; idle?: string; forExec?: boolean }): Promise<number | void> {
  const env = process.env;
  const ttlMs = o.forExec ? EXEC_UNLOCK_TTL_MS : o.ttl === undefined ? DEFAULT_TTL_MS : durationFlag('--ttl', o.ttl);
  const idleMs = o.idle === undefined ? undefined : durationFlag('--idle', o.idle);
  if (idleMs !== undefined && idleMs >= ttlMs) {
    throw new UserError(`--idle ${o.idle} is not shorter than the lifetime (${formatDuration(ttlMs)}): it would never apply; drop it or raise --ttl`);
  }
  const reg = loadRegistry(env);
  const wanted = targets(keys, o.all, Object.keys(reg.keys));
  // Names the registry does not map may come from the team file beside the manifest.
  const plan = teamPlan(env);
  const teamNames: string[] = [];
  // What the daemon holds of your own keys is left as it is: no passphrase asked for it.
  const heldNow = await alreadyHeld(env, o.forExec === true);
  const kept: string[] = [];

  /** wrong: failed because the passphrase was wrong (said once, not per key). */
  const failures: Array<{ name: string; why: string; required: boolean; wrong?: boolean }> = [];
  const groups = new Map<VaultId, KeyRef[]>();
  let direct = 0;
  /** Required keys never set: one line for all of them, with "did you mean". */
  const absent: string[] = [];
  const near = new Map<string, string>();
  for (const [name, required] of wanted) {
    const entry = reg.keys[name];
    if (!entry) {
      // A team value is fetched again even when held: a pull may have brought a rotated one.
      if (plan.team?.file.values.has(name)) {
        teamNames.push(name);
        continue;
      }
      if (!required) continue;
      absent.push(name);
      const n = closest(name, Object.keys(reg.keys));
      if (n !== undefined) near.set(name, n);
      continue;
    }
    if (entry.vault === 'os.direct') {
      direct++; // read straight from its file by get/export: nothing to unlock
      continue;
    }
    const left = heldNow.get(name);
    if (left !== undefined) {
      kept.push(`${name} (${formatDuration(left)} left)`);
      continue;
    }
    const g = groups.get(entry.vault) ?? [];
    g.push({ name, entry });
    groups.set(entry.vault, g);
  }

  let wrongPassphrase = false;
  let askedPassphrase = false;
  // One short connection per request: typing a passphrase, scrypt on a loaded machine
  // or a browser SSO login can outlast the daemon's idle timeout on a held one.
  const ask = async <B extends RequestBody>(req: B) => {
    const { conn } = await startDaemon(env);
    try {
      return await conn.request(req);
    } finally {
      conn.close();
    }
  };
  const useDaemon = groups.size > 0 || teamNames.length > 0;
  // Start it now (when needed), so a failure to start shows before any prompt.
  if (useDaemon) (await startDaemon(env)).conn.close();
  let pass: Promise<string> | undefined;
  let passphraseDone = () => {};
  /** Settles once the passphrase was read (or reading it failed). */
  const passphraseRead = new Promise<void>((resolve) => { passphraseDone = resolve; });
  const ctx: FetchContext = {
    env,
    interactive: true,
    progress: (m) => say(m),
    passphrase: () => pass ??= (async () => {
      askedPassphrase = true;
      const { delayMs } = await ask({ op: 'backoff' });
      if (delayMs > 0) {
        say(`waiting ${Math.ceil(delayMs / 1000)}s after wrong passphrases`);
        await sleep(delayMs);
      }
      return readPassphrase('os.secure passphrase: ', { confirm: false });
    })().finally(() => passphraseDone()),
  };

  const put: Record<string, Unlocked> = {};
  const now = Date.now();
  // Team values first: the passphrase prompt comes before any slow remote vault (os.secure reuses it).
  if (plan.team && teamNames.length > 0) {
    try {
      const got = await fetchTeamValues(plan.team, teamNames, ctx);
      Object.assign(put, got.put);
      for (const f of got.failures) failures.push({ ...f, required: wanted.get(f.name)! });
    } catch (e) {
      if (e instanceof Cancelled) throw e; // Ctrl-C at the prompt: the whole unlock stops (exit 130)
      const wrong = e instanceof WrongPassphrase;
      if (wrong) wrongPassphrase = true;
      for (const name of teamNames) failures.push({ name, why: messageOf(e), required: wanted.get(name)!, wrong });
    }
  }
  // os.secure first: its prompt comes before any slow remote vault.
  const order = [...groups.keys()].sort((a, b) => Number(b === 'os.secure') - Number(a === 'os.secure'));
  const fetchGroup = async (id: VaultId): Promise<{ vault: Vault; results: Map<string, Error | Fetched> } | { error: unknown }> => {
    try {
      const vault = await vaultFor(id);
      return { vault, results: await vault.fetch(groups.get(id)!, ctx) };
    } catch (error) {
      return { error };
    }
  };
  // The vaults run side by side, each batching its own keys: the slowest vault sets
  // the wait, not the sum. os.secure starts first, and the others once its
  // passphrase is in (or it failed before asking), so no tool writes over the prompt.
  const first = order[0] === 'os.secure' ? fetchGroup('os.secure') : undefined;
  if (first) await Promise.race([first, passphraseRead]);
  const outcomes = await Promise.all(order.map((id, i) => (i === 0 && first ? first : fetchGroup(id))));
  order.forEach((id, i) => {
    const refs = groups.get(id)!;
    const o = outcomes[i]!;
    if ('error' in o) {
      if (o.error instanceof Cancelled) throw o.error; // Ctrl-C at the prompt: the whole unlock stops (exit 130)
      const wrong = o.error instanceof WrongPassphrase;
      if (wrong) wrongPassphrase = true;
      for (const { name } of refs) failures.push({ name, why: messageOf(o.error), required: wanted.get(name)!, wrong });
      return;
    }
    const { vault, results } = o;
    let tooLarge: string | null;
    for (const { name, entry } of refs) {
      const r = results.get(name);
      if (r === undefined) failures.push({ name, why: `${id} returned nothing`, required: wanted.get(name)! });
      else if (r instanceof Error) failures.push({ name, why: messageOf(r), required: wanted.get(name)! });
      else if (r.expiresAt !== undefined && r.expiresAt <= now) failures.push({ name, why: `${id} returned credentials that have already expired`, required: wanted.get(name)! });
      else if ((tooLarge = sizeProblem('value' in r ? r.value : r.env)) !== null) failures.push({ name, why: `${tooLarge} — not unlocked; store a smaller value in ${id}`, required: wanted.get(name)! });
      else {
        const v: Unlocked = 'value' in r ? { value: r.value } : { env: r.env };
        if (r.expiresAt !== undefined) v.expiresAt = r.expiresAt;
        if (vault.refreshable) v.source = r.source ?? (entry.profile === undefined ? { vault: id } : { vault: id, profile: entry.profile });
        put[name] = v;
      }
    }
  });

  if (useDaemon && askedPassphrase) await ask({ op: 'backoff', record: wrongPassphrase ? 'failure' : 'success' });
  const names = Object.keys(put);
  // In requests the daemon takes (a bounded number of keys and bytes each): many keys are many puts.
  if (useDaemon) {
    for (const keys of putChunks(put)) await ask({ op: 'put', ttlMs, keys, ...(idleMs !== undefined && { idleMs }), ...(o.forExec && { execOnly: true as const }) });
  }

  if (wrongPassphrase) {
    say(`wrong passphrase — nothing from os.secure${teamNames.length > 0 ? ' or the team file' : ''} was unlocked`);
  }
  // A broken team file matters only to names it would have resolved.
  const broken = plan.broken && [...wanted.keys()].some((n) => !reg.keys[n]) ? plan.broken : undefined;
  if (broken) say(broken.message);
  if (absent.length > 0) say(`${words.absent(absent, 'sentence', near)}${plan.hint}`);
  for (const f of failures) if (f.wrong !== true) say(`${f.name}: ${f.why}`);
  if (kept.length > 0) say(`already unlocked: ${kept.join(', ')} — keyrack lock ${kept.length === 1 ? 'it' : 'them'} first to fetch ${kept.length === 1 ? 'it' : 'them'} again`);
  if (names.length > 0) {
    const shorter = names.filter((n) => put[n]!.expiresAt !== undefined && put[n]!.expiresAt! < now + ttlMs)
      .map((n) => `${n} until its vault expiry in ${formatDuration(put[n]!.expiresAt! - now)}`);
    const idle = idleMs === undefined ? '' : `, or until unused for ${formatDuration(idleMs)}`;
    const forWhom = o.forExec ? ' for keyrack exec only (the hook will not set them; keyrack unlock to use them in shells)' : '';
    const fromTeam = names.filter((n) => parseStoreName(n).team !== undefined).length;
    const team = fromTeam === 0 ? '' : ` (${fromTeam === names.length ? '' : `${fromTeam} `}from ${TEAM_FILE})`;
    say(`unlocked ${names.length} key${names.length === 1 ? '' : 's'}${team} for ${formatDuration(ttlMs)}${idle}${forWhom}${shorter.length ? ` (${shorter.join(', ')})` : ''}`);
  } else if (failures.length === 0 && absent.length === 0 && kept.length === 0 && !broken) {
    say(direct > 0 ? 'nothing to unlock (os.direct keys need no unlock)' : 'nothing to unlock');
  }
  if (wrongPassphrase || broken || absent.length > 0 || failures.some((f) => f.required)) return 2;
  return 0;
}
