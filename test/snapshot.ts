/**
 * A fingerprint of every file under a directory (path → mode + sha256), so a test
 * can assert that a refused command changed nothing on disk.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, lstatSync } from 'node:fs';
import { join, relative } from 'node:path';

export function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      const st = lstatSync(p);
      if (st.isDirectory()) {
        out[`${relative(root, p)}/`] = (st.mode & 0o7777).toString(8);
        walk(p);
      } else {
        // Lock files are opened (not written) by every command; their presence is noise.
        if (name.endsWith('.lock')) continue;
        out[relative(root, p)] = `${(st.mode & 0o7777).toString(8)} ${createHash('sha256').update(readFileSync(p)).digest('hex')}`;
      }
    }
  };
  walk(root);
  return out;
}
