/** The machine the bench ran on, and the one table it prints (markdown) and saves (JSON). */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

export interface Machine {
  nproc: number;
  cpu: string;
  kernel: string;
  node: string;
  direnv: string;
  bash: string;
  zsh: string;
  fish: string;
  nodeExtraCaCerts: string | null;
}

const firstLine = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: 'utf8' }).stdout?.split('\n')[0]?.trim() ?? '?';

export function machine(): Machine {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  return {
    nproc: availableParallelism(),
    cpu: /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1]?.trim() ?? '?',
    kernel: readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(),
    node: process.version,
    direnv: firstLine('direnv', ['version']),
    bash: firstLine('bash', ['-c', 'echo $BASH_VERSION']),
    zsh: firstLine('zsh', ['-fc', 'echo $ZSH_VERSION']),
    fish: firstLine('fish', ['--version']).replace(/^fish, version /, ''),
    nodeExtraCaCerts: process.env.NODE_EXTRA_CA_CERTS || null,
  };
}

/** The 1-, 5- and 15-minute load averages. */
export function loadavg(): [number, number, number] {
  const [a, b, c] = readFileSync('/proc/loadavg', 'utf8').split(' ').map(Number);
  return [a!, b!, c!];
}

export interface Row {
  id: string;
  what: string;
  keyrack: string;
  baseline: string;
  ratio: string;
  goal: string;
  /** null: reported, no goal to meet. */
  met: boolean | null;
}

const cell = (s: string) => s.replaceAll('|', '\\|');

export function markdownTable(rows: Row[]): string {
  const head = ['#', 'what', 'keyrack', 'compared with', 'ratio', 'goal', ''];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of rows) {
    const mark = r.met === null ? '' : r.met ? '✓' : '✗';
    lines.push(`| ${[r.id, r.what, r.keyrack, r.baseline, r.ratio, r.goal, mark].map(cell).join(' | ')} |`);
  }
  return lines.join('\n');
}
