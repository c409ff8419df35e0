import { KeyrackError } from '../errors.js';

export async function run(_o: { json: boolean }): Promise<number | void> {
  throw new KeyrackError('not implemented yet');
}
