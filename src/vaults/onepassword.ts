/**
 * The 1password vault: the registry keeps only an op:// reference; `unlock` asks
 * the 1Password CLI for the values. Many keys go through one `op inject` (template
 * on stdin), which bench/op-fetch.ts measured 2–6× faster than `op read` per key
 * for 5–20 keys; one key, and references inject cannot parse, use `op read`.
 */
import { UserError } from '../errors.js';
import type { RegistryEntry } from '../registry.js';
import { injectAll, OP_NOT_INSTALLED, readEach, type OpKey, type OpRun } from './op-cli.js';
import { injectable, refProblem } from './op-ref.js';
import { findOnPath, timeoutFrom } from './tool.js';
import type { Fetched, Vault } from './vault.js';

/** Generous: the first call may wait for the user to approve it in the 1Password app. */
const DEFAULT_TIMEOUT_S = 60;

export const vault: Vault = {
  id: '1password',

  validate(entry: RegistryEntry): string | null {
    return refProblem(entry.ref);
  },

  async fetch(keys, ctx) {
    const out = new Map<string, Fetched | Error>();
    const ok: OpKey[] = [];
    for (const { name, entry } of keys) {
      const p = refProblem(entry.ref);
      if (p) out.set(name, new UserError(`1password: ${p}; fix it with keyrack set ${name} --vault 1password --ref op://…`));
      else ok.push({ name, ref: entry.ref! });
    }
    if (ok.length === 0) return out;

    const op = findOnPath('op', ctx.env);
    if (!op) {
      for (const k of ok) out.set(k.name, new UserError(`1password: ${OP_NOT_INSTALLED}`));
      return out;
    }
    const run: OpRun = { op, env: ctx.env, timeoutMs: timeoutFrom(ctx.env, 'KEYRACK_OP_TIMEOUT', DEFAULT_TIMEOUT_S) };
    const batch = ok.filter((k) => injectable(k.ref));
    const single = ok.filter((k) => !injectable(k.ref));
    if (batch.length > 1) {
      // Side by side, so a hung op costs one timeout, not two.
      const [a, b] = await Promise.all([injectAll(run, batch), readEach(run, single)]);
      for (const [n, v] of [...a, ...b]) out.set(n, v);
    } else {
      for (const [n, v] of await readEach(run, ok)) out.set(n, v);
    }
    return out;
  },
};
