import { KeyrackError } from '../errors.js';

export async function run(_key: string): Promise<number | void> {
  throw new KeyrackError('not implemented yet');
}
