/**
 * What a secret is while keyrack holds it: the types the vaults produce, the
 * daemon stores and its protocol carries. A module of its own, below both, so a
 * vault never imports the daemon to name what it returns.
 */

/** A value: one string, or several variables (an aws.sso key expands to AWS_*). */
export type Secret = { value: string } | { env: Record<string, string> };

/** What a vault fetched: the value, and the vault's own expiry when it has one. */
export type Fetched = Secret & {
  /** The vault's own expiry (AWS credentials, a Vault lease), epoch ms. */
  expiresAt?: number;
  /**
   * What the daemon needs to refresh this value by itself (a Vault lease and how
   * to reach it); without it, refreshable vaults get { vault, profile }.
   */
  source?: Source;
};

/** Where a value came from, so the daemon can refresh it before it expires. */
export interface Source {
  vault: string;
  profile?: string;
  /**
   * The vault's own refresh state (hashicorp: the lease, the address, the token),
   * opaque to the daemon; held in memory with the value and never shown.
   */
  state?: Record<string, string>;
}

/** A value on its way into the daemon (unlock's `put`): what the vault fetched, and where to refresh it from. */
export type Unlocked = Fetched;

/** A value as the daemon hands it out. */
export type HeldKey = Secret & {
  /**
   * Expiry, epoch ms: min(now + ttl, the vault's own expiry), and, with an idle
   * limit, no later than the last hand-out + that limit (this one included).
   */
  expiresAt: number;
};
