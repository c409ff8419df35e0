/** `keyrack init`: create the os.secure identity, protected by a passphrase. */
import { readPassphrase } from '../input.js';
import { files } from '../paths.js';
import { printable } from '../printable.js';
import { alreadyInitialized, initSecure } from '../vaults/secure.js';
import { readIfExists } from '../fsutil.js';
import { withProgress } from '../term.js';

export async function run(): Promise<number | void> {
  const env = process.env;
  // Checked before asking, so nobody types a passphrase for nothing (initSecure checks again under a lock).
  if (readIfExists(files.identity(env)) !== undefined) throw alreadyInitialized(env);
  const passphrase = await readPassphrase('New os.secure passphrase: ', { confirm: true });
  // scrypt is the slow step (a second or two).
  const recipient = await withProgress('creating the identity (this takes a moment)', () => initSecure(passphrase, env));
  process.stdout.write(`created the os.secure identity\n  identity:   ${printable(files.identity(env))} (encrypted with your passphrase)\n  public key: ${recipient}\n`);
}
