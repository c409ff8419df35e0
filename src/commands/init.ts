/**
 * `keyrack init`: create the os.secure identity, protected by a passphrase — asked
 * twice on a terminal (a mismatch is asked again), else exactly one line of stdin.
 */
import { askNewPassphrase, onTerminal, readStdinPassphrases } from '../input.js';
import { files } from '../paths.js';
import { say } from '../say.js';
import { alreadyInitialized, initSecure } from '../vaults/secure.js';
import { readIfExists } from '../fsutil.js';
import { withProgress } from '../term.js';

export async function run(): Promise<number | void> {
  const env = process.env;
  // Checked before asking, so nobody types a passphrase for nothing (initSecure checks again under a lock).
  if (readIfExists(files.identity(env)) !== undefined) throw alreadyInitialized(env);
  const passphrase = onTerminal()
    ? await askNewPassphrase('New os.secure passphrase: ')
    : (await readStdinPassphrases(1, 'the new passphrase'))[0]!;
  // scrypt is the slow step (a second or two).
  const recipient = await withProgress('creating the identity (this takes a moment)', () => initSecure(passphrase, env));
  say(`created the os.secure identity ${files.identity(env)} (encrypted with your passphrase); public key ${recipient}`);
}
