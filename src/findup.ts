/**
 * Files keyrack ships beside its code (the shell/ hooks, the native/ build) are
 * found by walking up from the code's own directory: it runs from src/ or
 * src/commands/ (tsx), and from dist/ or dist/chunks/ (the bundles).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** `rel` under `dir` or its nearest parents (`levels` directories in all), or undefined. */
export function findUp(dir: string, rel: string, levels = 4): string | undefined {
  let d = dir;
  for (let i = 0; i < levels; i++) {
    const p = join(d, rel);
    if (existsSync(p)) return p;
    d = dirname(d);
  }
  return undefined;
}
