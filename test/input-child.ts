/**
 * Runs src/input.ts in a child process so tests can feed it a real stdin (pipe or
 * pty). argv[2]: "passphrase+secret" reads a passphrase line then a value;
 * "confirm" asks a passphrase twice. Prints the results as JSON, or the error.
 */
import { readPassphrase, readSecret } from '../src/input.ts';
import { messageOf, exitCodeOf } from '../src/errors.ts';

try {
  const mode = process.argv[2];
  if (mode === 'passphrase+secret') {
    const p = await readPassphrase('Passphrase: ', { confirm: false });
    const v = await readSecret('Value: ', 'the value');
    process.stdout.write(JSON.stringify({ p, v }) + '\n');
  } else if (mode === 'confirm') {
    const p = await readPassphrase('Passphrase: ', { confirm: true });
    process.stdout.write(JSON.stringify({ p }) + '\n');
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
} catch (e) {
  process.stderr.write(`error: ${messageOf(e)}\n`);
  process.exitCode = exitCodeOf(e);
}
