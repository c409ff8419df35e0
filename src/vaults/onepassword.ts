import { KeyrackError } from '../errors.js';
import type { Vault } from './vault.js';

// Placeholder until the remote-vaults issue lands.
export const vault: Vault = {
  id: '1password',
  async remove() {},
  async fetch() {
    throw new KeyrackError('the 1password vault is not implemented yet');
  },
};
