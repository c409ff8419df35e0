// The daemon's owner, for the flood test and bench: run it in a fresh login session
// (it starts the daemon there, so the daemon serves that session only). Puts KEYS,
// prints {"ready": true, "pid": <daemon pid>, "socket": <path>}, then answers stdin:
//   get N   N times: connect (the real client, src/daemon/client.ts) + hello + GET
//           of every key + close; prints {"ms": [...], "failed": [reasons...]}
//   quit    stops the daemon (only its own session may) and exits
//   node --import tsx owner.ts KEYRACK   (the sandbox environment in process.env)
import { spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { DaemonConnection } from '../../src/daemon/client.ts';

const KEYS = Array.from({ length: 10 }, (_, i) => `FLOOD_${i}`);
const value = (k: string) => `value-of-${k}`;
const out = (o: unknown) => process.stdout.write(JSON.stringify(o) + '\n');

const started = spawnSync(process.execPath, [process.argv[2]!, 'daemon', 'start'], { encoding: 'utf8' });
if (started.status !== 0) throw new Error(`daemon start: ${started.stderr}`);
const first = await DaemonConnection.open();
if (!first) throw new Error('no daemon after start');
await first.request({ op: 'put', ttlMs: 3_600_000, keys: Object.fromEntries(KEYS.map((k) => [k, { value: value(k) }])) });
out({ ready: true, pid: first.hello.pid, socket: first.path });
first.close();

async function getOnce(): Promise<void> {
  const c = await DaemonConnection.open();
  if (!c) throw new Error('no daemon');
  try {
    const r = await c.request({ op: 'get', keys: KEYS });
    for (const k of KEYS) {
      const held = r.keys?.[k];
      if (!held || !('value' in held) || held.value !== value(k)) throw new Error(`${k} missing or wrong`);
    }
  } finally {
    c.close();
  }
}

for await (const line of createInterface({ input: process.stdin })) {
  const [cmd, n] = line.split(' ');
  if (cmd === 'quit') {
    spawnSync(process.execPath, [process.argv[2]!, 'daemon', 'stop'], { stdio: 'ignore' });
    break;
  }
  if (cmd !== 'get') continue;
  const ms: number[] = [];
  const failed: string[] = [];
  for (let i = 0; i < Number(n); i++) {
    const t0 = performance.now();
    try {
      await getOnce();
      ms.push(performance.now() - t0);
    } catch (e) {
      failed.push((e as Error).message);
    }
  }
  out({ ms, failed });
}
process.exit(0);
