import { KeyrackError } from '../errors.js';
import type { Vault } from './vault.js';

// Placeholder until the remote-vaults issue lands.
export const vault: Vault = {
  id: 'aws.sso',
  async remove() {},
  async fetch() {
    throw new KeyrackError('the aws.sso vault is not implemented yet');
  },
};
