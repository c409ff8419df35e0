/**
 * `keyrack export bash|zsh|fish|json`: the changes that bring this shell's
 * environment in line with the current directory, as code to eval. Run by the hook
 * only when the manifest or the generation changed.
 *
 * stdout carries only code; every message is one short line on stderr, printed
 * only when something changed. Never prompts. On an internal error it says so and
 * prints no code, so the shell stays exactly as it was. The work is the engine's
 * (env/diff.ts, env/render.ts); the daemon's fast path gives the same answer.
 */
import { daemonHeld } from '../daemon/source.js';
import { renderExport } from '../env/render.js';

export async function run(shellName: string): Promise<number | void> {
  const r = await renderExport(shellName, process.env, { getHeld: daemonHeld });
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  return r.code;
}
