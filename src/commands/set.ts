import { KeyrackError } from '../errors.js';

export async function run(_key: string, _o: { vault?: string; ref?: string; profile?: string }): Promise<number | void> {
  throw new KeyrackError('not implemented yet');
}
