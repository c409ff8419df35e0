/**
 * The vault for an id, imported on first use so a command loads only the vault
 * code (and crypto) it needs. Each vault module exports `vault`.
 */
import type { VaultId } from '../registry.js';
import type { Vault } from './vault.js';

export async function vaultFor(id: VaultId): Promise<Vault> {
  switch (id) {
    case 'os.secure':
      return (await import('./secure.js')).vault;
    case 'os.direct':
      return (await import('./direct.js')).vault;
    case '1password':
      return (await import('./onepassword.js')).vault;
    case 'aws.sso':
      return (await import('./awssso.js')).vault;
    case 'pass':
      return (await import('./pass.js')).vault;
    case 'keyring':
      return (await import('./keyring.js')).vault;
    case 'hashicorp':
      return (await import('./hashicorp.js')).vault;
    case 'aws.secrets':
      return (await import('./aws-secrets.js')).vault;
    case 'aws.ssm':
      return (await import('./aws-ssm.js')).vault;
    case 'cmd':
      return (await import('./cmd.js')).vault;
  }
}
