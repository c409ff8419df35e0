/**
 * One interface for every vault. Local vaults (os.secure, os.direct) keep values;
 * remote ones (1password, aws.sso, pass, keyring, hashicorp, aws.secrets, aws.ssm,
 * cmd) keep only a reference and fetch on unlock.
 * `fetch` takes many keys at once so a vault can share work between them:
 * os.secure runs scrypt once per unlock, 1password runs `op` calls concurrently.
 */
import type { Env } from '../paths.js';
import type { RegistryEntry, VaultId } from '../registry.js';
import type { Fetched, Secret, Source } from '../secret.js';

/** What a vault returns (src/secret.ts: the vaults and the daemon share it). */
export type { Fetched } from '../secret.js';

export interface FetchContext {
  env: Env;
  /** Asks the os.secure passphrase (hidden prompt on a TTY, else a line of stdin), once. */
  passphrase(): Promise<string>;
  /** One short progress line for slow steps (aws sso login); goes to stderr. */
  progress(msg: string): void;
  /**
   * False inside the daemon (background refresh): never prompt, never open a
   * browser login; fail instead and let the value expire.
   */
  interactive: boolean;
}

export interface KeyRef {
  name: string;
  entry: RegistryEntry;
}

export interface Vault {
  readonly id: VaultId;
  /** True for vaults whose values the daemon may re-fetch by itself before they expire. */
  readonly refreshable?: boolean;
  /** Why a registry entry is unusable (e.g. a malformed op:// reference), or null. */
  validate?(entry: RegistryEntry): string | null;
  /** Fetches keys; a failure of one key is that key's Error, not the whole call's. */
  fetch(keys: KeyRef[], ctx: FetchContext): Promise<Map<string, Fetched | Error>>;
  /**
   * The daemon's re-fetch of one held value before it expires, from the source
   * it was put with (e.g. renewing a Vault lease, which keeps `current`). Without it, the daemon calls
   * fetch with an entry made of the source's vault and profile.
   */
  refresh?(name: string, source: Source, ctx: FetchContext, current: Secret): Promise<Fetched>;
}
