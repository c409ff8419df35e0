import { KeyrackError } from '../errors.js';

export async function run(_dir: string | undefined, _allow: boolean): Promise<number | void> {
  throw new KeyrackError('not implemented yet');
}
