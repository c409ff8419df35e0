/**
 * `keyrack get KEY`: print one value followed by a newline (like `pass`).
 * os.direct is read from its file; every other vault's value comes from the
 * session daemon, so a key that is not unlocked exits 2 with the command to run.
 * An aws.sso key prints its variables as NAME=VALUE lines. The engine computes it
 * (src/env/getkey.ts), so the daemon's answer to keyrack-fast is the same.
 */
import { getOutput } from '../env/getkey.js';
import { daemonHeld } from '../daemon/source.js';

export async function run(key: string): Promise<number | void> {
  process.stdout.write(await getOutput(key, process.env, daemonHeld));
}
