import { KeyrackError } from '../errors.js';

export async function run(_keys: string[]): Promise<number | void> {
  throw new KeyrackError('not implemented yet');
}
