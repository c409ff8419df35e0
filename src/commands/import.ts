import { KeyrackError } from '../errors.js';

export async function run(_file: string, _o: { vault?: string; force: boolean }): Promise<number | void> {
  throw new KeyrackError('not implemented yet');
}
