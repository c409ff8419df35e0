/**
 * `keyrack export direnv`, what `use keyrack` (shell/keyrack.direnv.bash) evals in
 * direnv's bash: what direnv must watch, then the variables. Nothing else: direnv
 * itself remembers what was there before and restores it on leave, so there is no
 * state to keep and nothing saved (KEYRACK_STATE and the saved copies belong to
 * keyrack's own hooks, which may run beside direnv's).
 */
import { quotePosix } from './posix.js';

/** What `use keyrack` hands direnv. */
export interface DirenvAnswer {
  /** Files whose change may change the answer (direnv's watch_file). */
  watch: string[];
  /** The variables to export, in manifest order. */
  set: Array<[name: string, value: string]>;
}

export function renderDirenv(a: DirenvAnswer): string {
  const out: string[] = [];
  if (a.watch.length) out.push(`watch_file ${a.watch.map(quotePosix).join(' ')}`);
  for (const [n, v] of a.set) out.push(`export ${n}=${quotePosix(v)}`);
  return out.length ? out.join('\n') + '\n' : '';
}
