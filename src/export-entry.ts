/**
 * `node dist/keyrack-export.mjs SHELL`: exactly `keyrack export SHELL`, as a second,
 * self-contained bundle. It is what keyrack-fast hands a prompt to when the daemon
 * cannot answer (none running, e.g. an os.direct-only project): one file with no
 * CLI parser and no chunks to resolve starts ~25 ms sooner than the CLI, and that
 * path is bounded by Node's own start.
 */
import { run } from './commands/export.js';
import { exitCodeOf, messageOf } from './errors.js';

try {
  process.exitCode = (await run(process.argv[2] ?? '')) ?? 0;
} catch (e) {
  process.stderr.write(`keyrack: ${messageOf(e)}\n`);
  process.exitCode = exitCodeOf(e);
}
