/**
 * What a test needs of the machine: root, or a tool. In CI a missing one fails the
 * test, so nothing can quietly drop out there; locally the test is skipped, loudly,
 * so a developer without zsh can still run the rest. Needs no build (unit tests
 * use it too; test/helpers.ts re-exports it).
 */
import { spawnSync } from 'node:child_process';

/** For `test(name, { skip: needsRoot(why) }, …)`: false as root (as CI runs); in CI otherwise an error. */
export function needsRoot(why: string): string | false {
  if (process.getuid?.() === 0) return false;
  if (process.env.CI) throw new Error(`these tests must run as root in CI: ${why}`);
  process.stderr.write(`\n*** SKIPPING: not root: ${why} ***\n\n`);
  return `not root: ${why}`;
}

/** The tool's path, or false (a loud skip; an error in CI). */
export function requireTool(name: string): string | false {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  const path = r.stdout.trim();
  if (r.status === 0 && path) return path;
  if (process.env.CI) throw new Error(`${name} is required in CI but is not installed (test/run.sh installs it)`);
  process.stderr.write(`\n*** SKIPPING: ${name} is not installed; run test/run.sh to install it ***\n\n`);
  return false;
}
