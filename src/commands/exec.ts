import { KeyrackError } from '../errors.js';

export async function run(_cmd: string[], _o: { keys: string[] }): Promise<number | void> {
  throw new KeyrackError('not implemented yet');
}
