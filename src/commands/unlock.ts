import { KeyrackError } from '../errors.js';

export async function run(_keys: string[], _o: { all: boolean; ttl?: string }): Promise<number | void> {
  throw new KeyrackError('not implemented yet');
}
