import { KeyrackError } from '../errors.js';

export async function run(_o: { follow: boolean; json: boolean }): Promise<number | void> {
  throw new KeyrackError('not implemented yet');
}
