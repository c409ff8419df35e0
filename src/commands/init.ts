import { KeyrackError } from '../errors.js';

export async function run(): Promise<number | void> {
  throw new KeyrackError('not implemented yet');
}
