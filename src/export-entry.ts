/**
 * `node dist/keyrack-export.cjs SHELL`: exactly `keyrack export SHELL`, as a second,
 * self-contained bundle. It is what keyrack-fast hands a prompt to when the daemon
 * cannot answer (none running, e.g. an os.direct-only project), a path bounded by
 * Node's own start. Built as one CommonJS file: no chunks to resolve, no CLI parser,
 * and Node's built-ins are required where they are used rather than all bound up
 * front through ES module facades: together ~45 ms less than the CLI here.
 */
import { run } from './commands/export.js';
import { exitCodeOf, messageOf } from './errors.js';
import { printable } from './printable.js';

run(process.argv[2] ?? '').then(
  (code) => { process.exitCode = code ?? 0; },
  (e: unknown) => {
    process.stderr.write(`keyrack: ${printable(messageOf(e))}\n`);
    process.exitCode = exitCodeOf(e);
  },
);
