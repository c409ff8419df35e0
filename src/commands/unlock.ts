/**
 * `keyrack unlock [KEY…] [--all] [--ttl D] [--idle D]`: fetch values from their vaults into
 * the session daemon (starting it when needed). Default keys: the current
 * manifest's. One fetch per vault, so os.secure asks its passphrase once however
 * many keys. One failing key does not stop the others; any required failure → exit 2.
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
import { startDaemon, withDaemon, type RequestBody } from '../daemon/client.js';
import type { Fetched, Unlocked } from '../secret.js';
import { DEFAULT_TTL_MS } from '../daemon/store.js';
import { vaultFor } from '../vaults/index.js';
import { WrongPassphrase } from '../vaults/secure.js';
import type { FetchContext, KeyRef } from '../vaults/vault.js';
import { say } from '../say.js';

/** The keys the daemon holds now, with the time each has left; empty when none runs. */
async function alreadyHeld(env: NodeJS.ProcessEnv): Promise<Map<string, number>> {
  const st = await withDaemon(env, async (c) => (await c.request({ op: 'status' })).status);
  const now = Date.now();
  return new Map((st?.keys ?? []).map((k) => [k.name, Math.max(0, k.expiresAt - now)]));
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

export async function run(keys: string[], o: { all: boolean; ttl?: string; idle?: string }): Promise<number | void> {
  const env = process.env;
  const ttlMs = o.ttl === undefined ? DEFAULT_TTL_MS : durationFlag('--ttl', o.ttl);
  const idleMs = o.idle === undefined ? undefined : durationFlag('--idle', o.idle);
  if (idleMs !== undefined && idleMs >= ttlMs) {
    throw new UserError(`--idle ${o.idle} is not shorter than the lifetime (${formatDuration(ttlMs)}): it would never apply; drop it or raise --ttl`);
  }
  const reg = loadRegistry(env);
  const wanted = targets(keys, o.all, Object.keys(reg.keys));
  // What the daemon holds already is left as it is: no passphrase asked for it.
  const heldNow = await alreadyHeld(env);
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
  const useDaemon = groups.size > 0;
  // Start it now (when needed), so a failure to start shows before any prompt.
  if (useDaemon) (await startDaemon(env)).conn.close();
  let pass: Promise<string> | undefined;
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
    })(),
  };

  const put: Record<string, Unlocked> = {};
  const now = Date.now();
  // os.secure first: its prompt comes before any slow remote vault.
  const order = [...groups.keys()].sort((a, b) => Number(b === 'os.secure') - Number(a === 'os.secure'));
  for (const id of order) {
    const refs = groups.get(id)!;
    let results: Map<string, Error | Fetched>;
    try {
      const vault = await vaultFor(id);
      results = await vault.fetch(refs, ctx);
      for (const { name, entry } of refs) {
        const r = results.get(name);
        if (r === undefined) failures.push({ name, why: `${id} returned nothing`, required: wanted.get(name)! });
        else if (r instanceof Error) failures.push({ name, why: messageOf(r), required: wanted.get(name)! });
        else if (r.expiresAt !== undefined && r.expiresAt <= now) failures.push({ name, why: `${id} returned credentials that have already expired`, required: wanted.get(name)! });
        else {
          const v: Unlocked = 'value' in r ? { value: r.value } : { env: r.env };
          if (r.expiresAt !== undefined) v.expiresAt = r.expiresAt;
          if (vault.refreshable) v.source = entry.profile === undefined ? { vault: id } : { vault: id, profile: entry.profile };
          put[name] = v;
        }
      }
    } catch (e) {
      if (e instanceof Cancelled) throw e; // Ctrl-C at the prompt: the whole unlock stops (exit 130)
      const wrong = e instanceof WrongPassphrase;
      if (wrong) wrongPassphrase = true;
      for (const { name } of refs) failures.push({ name, why: messageOf(e), required: wanted.get(name)!, wrong });
    }
  }

  if (useDaemon && askedPassphrase) await ask({ op: 'backoff', record: wrongPassphrase ? 'failure' : 'success' });
  const names = Object.keys(put);
  if (useDaemon && names.length > 0) await ask(idleMs === undefined ? { op: 'put', ttlMs, keys: put } : { op: 'put', ttlMs, idleMs, keys: put });

  if (wrongPassphrase) {
    say('wrong passphrase — nothing from os.secure was unlocked');
  }
  if (absent.length > 0) say(words.absent(absent, 'sentence', near));
  for (const f of failures) if (f.wrong !== true) say(`${f.name}: ${f.why}`);
  if (kept.length > 0) say(`already unlocked: ${kept.join(', ')} — keyrack lock ${kept.length === 1 ? 'it' : 'them'} first to fetch ${kept.length === 1 ? 'it' : 'them'} again`);
  if (names.length > 0) {
    const shorter = names.filter((n) => put[n]!.expiresAt !== undefined && put[n]!.expiresAt! < now + ttlMs)
      .map((n) => `${n} until its vault expiry in ${formatDuration(put[n]!.expiresAt! - now)}`);
    const idle = idleMs === undefined ? '' : `, or until unused for ${formatDuration(idleMs)}`;
    say(`unlocked ${names.length} key${names.length === 1 ? '' : 's'} for ${formatDuration(ttlMs)}${idle}${shorter.length ? ` (${shorter.join(', ')})` : ''}`);
  } else if (failures.length === 0 && absent.length === 0 && kept.length === 0) {
    say(direct > 0 ? 'nothing to unlock (os.direct keys need no unlock)' : 'nothing to unlock');
  }
  if (wrongPassphrase || absent.length > 0 || failures.some((f) => f.required)) return 2;
  return 0;
}
