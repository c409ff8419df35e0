/**
 * `keyrack passwd`: change the os.secure passphrase. On a terminal: the current one
 * (checked at once, so nobody types a new one for nothing), then the new one twice;
 * otherwise three lines of stdin: current, new, new. Only the identity is
 * re-encrypted (the keys are encrypted to its public key), in one atomic write; the
 * old passphrase stops opening it. Backups made before keep the old passphrase.
 */
import { UserError } from '../errors.js';
import { askNewPassphrase, askPassphrase, onTerminal, readStdinPassphrases } from '../input.js';
import { files } from '../paths.js';
import { say } from '../say.js';
import { withProgress } from '../term.js';
import { readIfExists } from '../fsutil.js';

export async function run(): Promise<number | void> {
  const env = process.env;
  const secure = await import('../vaults/secure.js');
  if (readIfExists(files.identity(env)) === undefined) throw new UserError('no os.secure identity yet: keyrack init creates one');
  let oldPass: string;
  let newPass: string;
  if (onTerminal()) {
    oldPass = await askPassphrase('Current os.secure passphrase: ');
    await withProgress('checking it', () => secure.checkPassphrase(oldPass, env));
    newPass = await askNewPassphrase('New os.secure passphrase: ');
  } else {
    const [o, n, again] = await readStdinPassphrases(3, 'the current passphrase, then the new one twice,');
    if (n !== again) throw new UserError('the new passphrase and its repetition (lines 2 and 3 of stdin) differ; nothing changed');
    [oldPass, newPass] = [o!, n!];
  }
  if (newPass === oldPass) throw new UserError('the new passphrase is the old one; nothing changed');
  await withProgress('re-encrypting the identity (this takes a moment)', () => secure.changePassphrase(oldPass, newPass, env));
  say(`changed the os.secure passphrase of ${files.identity(env)}; the old one no longer opens it (backups made before still need the old one)`);
}
