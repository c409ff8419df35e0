/**
 * The daemon's memory: key name → value with an absolute expiry. Nothing here
 * ever touches the disk. An expired value is deleted by its timer (and, should a
 * timer run late, by the next read), never merely hidden.
 *
 * Idle expiry (unlock --idle): a value also goes once nobody has been handed it
 * for that long, as gpg-agent's cache does; each hand-out restarts that clock.
 * Its timer is not re-armed per read: when it fires early it re-arms for the
 * later due time, so the hot path stays a map lookup.
 *
 * Refresh: a value whose lifetime is bounded by its vault's own expiry (AWS
 * credentials) and whose vault is refreshable is re-fetched in the background
 * once it is within the refresh window of that expiry. The user's --ttl still
 * bounds it: a refresh never outlives the deadline set at unlock.
 */
import { formatDuration } from '../duration.js';
import type { Fetched, HeldKey, Secret, Source, Unlocked } from '../secret.js';
import type { KeyStatus } from './protocol.js';

/** Default lifetime of an unlocked value. */
export const DEFAULT_TTL_MS = 8 * 3_600_000;
/** Default refresh window (KEYRACK_REFRESH_WINDOW overrides it in the daemon). */
export const DEFAULT_REFRESH_WINDOW_MS = 5 * 60_000;
/** setTimeout holds 2^31-1 ms at most; longer waits re-arm. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Entry {
  secret: Secret;
  /** min(deadline, vaultExpiresAt) */
  expiresAt: number;
  /** now + ttl at unlock: no refresh goes past it. */
  deadline: number;
  vaultExpiresAt?: number;
  source?: Source;
  timer?: NodeJS.Timeout;
  refreshing: boolean;
  /** Earliest time of the next refresh attempt (after a failed or useless one). */
  retryAt: number;
  idleMs?: number;
  lastUsed: number;
  /** Unlocked by `exec` on a terminal: handed to exec and get, never to an export. */
  execOnly?: true;
}

/** When the entry goes: its expiry, or sooner once idle past its limit. */
function dueAt(e: Entry): number {
  return e.idleMs === undefined ? e.expiresAt : Math.min(e.expiresAt, e.lastUsed + e.idleMs);
}

export interface StoreOptions {
  /** Called after anything a shell would see changed (put, lock, expiry, refresh). */
  onChange(): void;
  /** True when the vault of this source can be re-fetched by the daemon. */
  canRefresh(source: Source): boolean;
  /** Re-fetches one key without prompting (`current`: the value held now, which a renewal keeps). */
  refresh(name: string, source: Source, current: Secret): Promise<Fetched>;
  log(line: string): void;
  refreshWindowMs?: number;
  now?: () => number;
}

export class Store {
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;
  readonly refreshWindowMs: number;

  constructor(private readonly opts: StoreOptions) {
    this.now = opts.now ?? Date.now;
    this.refreshWindowMs = opts.refreshWindowMs ?? DEFAULT_REFRESH_WINDOW_MS;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Stores values; returns nothing, calls onChange once. */
  put(keys: Record<string, Unlocked>, ttlMs: number, idleMs?: number, execOnly?: boolean): void {
    const now = this.now();
    for (const [name, v] of Object.entries(keys)) {
      const deadline = now + ttlMs;
      const secret: Secret = 'value' in v ? { value: v.value } : { env: { ...v.env } };
      const e: Entry = {
        secret, deadline, refreshing: false, retryAt: 0, lastUsed: now,
        expiresAt: v.expiresAt === undefined ? deadline : Math.min(deadline, v.expiresAt),
      };
      if (v.expiresAt !== undefined) e.vaultExpiresAt = v.expiresAt;
      if (idleMs !== undefined) e.idleMs = idleMs;
      if (execOnly) e.execOnly = true;
      if (v.source && this.opts.canRefresh(v.source)) e.source = v.source;
      this.drop(name);
      this.entries.set(name, e);
      this.arm(name, e);
    }
    this.opts.onChange();
  }

  /**
   * The live values among `names`, each counted as used now; expired ones found on
   * the way are removed. For an export, keys held for exec only are not there.
   */
  get(names: string[], purpose?: 'export'): Record<string, HeldKey> {
    // Only the names asked for are checked for expiry (each entry's timer drops it
    // anyway): sweeping every entry made each export cost O(keys held).
    const now = this.now();
    const out: Record<string, HeldKey> = {};
    let expired = false;
    for (const name of names) {
      const e = this.entries.get(name);
      if (e && dueAt(e) <= now) {
        this.expire(name, e, now);
        expired = true;
        continue;
      }
      if (!e || (purpose === 'export' && e.execOnly)) continue;
      e.lastUsed = now;
      out[name] = { ...e.secret, expiresAt: dueAt(e) };
    }
    if (expired) this.opts.onChange();
    return out;
  }

  /** Removes the named keys (all when none given); returns the names removed. */
  lock(names?: string[]): string[] {
    const removed: string[] = [];
    for (const name of names ?? [...this.entries.keys()]) {
      if (this.drop(name)) removed.push(name);
    }
    if (removed.length > 0) this.opts.onChange();
    return removed;
  }

  status(): KeyStatus[] {
    this.sweep();
    return [...this.entries].map(([name, e]) => {
      const s: KeyStatus = { name, expiresAt: dueAt(e), refresh: this.willRefresh(e) };
      if (e.idleMs !== undefined) s.idleMs = e.idleMs;
      if (e.execOnly) s.execOnly = true;
      if ('env' in e.secret) s.vars = Object.keys(e.secret.env);
      return s;
    }).sort((a, b) => a.name.localeCompare(b.name));
  }

  private willRefresh(e: Entry): boolean {
    return e.source !== undefined && e.vaultExpiresAt !== undefined && e.vaultExpiresAt < e.deadline;
  }

  private drop(name: string): boolean {
    const e = this.entries.get(name);
    if (!e) return false;
    clearTimeout(e.timer);
    this.entries.delete(name);
    return true;
  }

  private expire(name: string, e: Entry, now: number): void {
    this.drop(name);
    this.opts.log(e.expiresAt <= now ? `expired ${name}` : `expired ${name}: unused for ${formatDuration(e.idleMs!)}`);
  }

  private sweep(): void {
    const now = this.now();
    let changed = false;
    for (const [name, e] of this.entries) {
      if (dueAt(e) <= now) {
        this.expire(name, e, now);
        changed = true;
      }
    }
    if (changed) this.opts.onChange();
  }

  /** One timer per entry: at the refresh point when it refreshes, else at expiry. */
  private arm(name: string, e: Entry): void {
    clearTimeout(e.timer);
    let at = dueAt(e);
    if (this.willRefresh(e) && !e.refreshing) at = Math.min(at, Math.max(e.expiresAt - this.refreshWindowMs, e.retryAt));
    const delay = Math.min(Math.max(0, at - this.now()), MAX_TIMER_MS);
    e.timer = setTimeout(() => this.tick(name, e), delay);
    e.timer.unref();
  }

  private tick(name: string, e: Entry): void {
    if (this.entries.get(name) !== e) return;
    const now = this.now();
    if (dueAt(e) <= now) {
      this.expire(name, e, now);
      this.opts.onChange();
      return;
    }
    if (this.willRefresh(e) && !e.refreshing && now >= Math.max(e.expiresAt - this.refreshWindowMs, e.retryAt)) {
      void this.runRefresh(name, e);
    }
    this.arm(name, e);
  }

  private async runRefresh(name: string, e: Entry): Promise<void> {
    const source = e.source!;
    e.refreshing = true;
    // Between attempts: a fifth of the window, at least 5 s, so a failing vault is not hammered.
    e.retryAt = this.now() + Math.max(5000, this.refreshWindowMs / 5);
    let fetched: Fetched | undefined;
    try {
      fetched = await this.opts.refresh(name, source, e.secret);
    } catch (err) {
      this.opts.log(`refresh of ${name} from ${source.vault} failed: ${(err as Error).message}; it expires as scheduled`);
    }
    e.refreshing = false;
    if (this.entries.get(name) !== e) return; // locked or replaced meanwhile
    if (fetched) {
      const extends_ = fetched.expiresAt === undefined || fetched.expiresAt > (e.vaultExpiresAt ?? 0);
      e.secret = 'value' in fetched ? { value: fetched.value } : { env: { ...fetched.env } };
      // A renewed or re-read lease: the next refresh starts from it.
      if (fetched.source && this.opts.canRefresh(fetched.source)) e.source = fetched.source;
      if (fetched.expiresAt === undefined) delete e.vaultExpiresAt;
      else e.vaultExpiresAt = fetched.expiresAt;
      e.expiresAt = Math.min(e.deadline, e.vaultExpiresAt ?? e.deadline);
      this.opts.log(`refreshed ${name} from ${source.vault}${extends_ ? '' : ' (expiry unchanged; will retry)'}`);
      this.opts.onChange();
    }
    this.arm(name, e);
  }

  /** Drops everything (stop, SIGTERM). No onChange: the caller bumps once. */
  clear(): void {
    for (const e of this.entries.values()) clearTimeout(e.timer);
    this.entries.clear();
  }
}
