/**
 * `keyrack daemon start|stop|status|run`. `run` is the daemon itself, in the
 * foreground; `start` spawns it detached (as `unlock` does on demand).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { UserError } from '../errors.js';
import { formatDuration } from '../duration.js';
import { printable } from '../printable.js';
import { DAEMON_ACTIONS } from './table.js';

const ACTIONS = Object.keys(DAEMON_ACTIONS);

export async function run(action: string): Promise<number | void> {
  const env = process.env;
  if (!ACTIONS.includes(action)) throw new UserError(`unknown daemon action '${action}' (one of ${ACTIONS.join(', ')}; see keyrack help daemon)`);
  if (action === 'run') {
    const { runDaemon } = await import('../daemon/main.js');
    return runDaemon(env);
  }
  const { DaemonConnection, startDaemon } = await import('../daemon/client.js');
  if (action === 'start') {
    const { conn, started } = await startDaemon(env);
    conn.close();
    process.stderr.write(`keyrack: daemon ${started ? 'started' : 'already running'} (pid ${conn.hello.pid}, ${conn.hello.mode === 'session' ? `session ${conn.hello.session}` : conn.hello.shared ? 'user-wide: every session of your uid' : 'uid-only'})\n`);
    return 0;
  }
  const conn = await DaemonConnection.open(env);
  if (!conn) {
    process.stderr.write('keyrack: daemon not running\n');
    return action === 'stop' ? 0 : 2;
  }
  if (action === 'stop') {
    const pid = conn.hello.pid;
    await conn.request({ op: 'stop' });
    conn.close();
    // Wait until it is gone, so a `stop; start` sequence never meets the old one.
    for (let i = 0; i < 250; i++) {
      try {
        process.kill(pid, 0);
      } catch {
        break;
      }
      await sleep(20);
    }
    process.stderr.write(`keyrack: daemon stopped (pid ${pid}); memory purged\n`);
    return 0;
  }
  const st = (await conn.request({ op: 'status' })).status;
  conn.close();
  const now = Date.now();
  const out = [
    `pid      ${st.pid}`,
    `socket   ${st.socket}`,
    `session  ${st.shared ? 'user-wide (uid-only): serves every login session of your uid' : st.session === null ? 'uid-only: no audit session id' : st.session}`,
    `check    ${st.check}`,
    `dump     ${st.dumpable === false ? 'non-dumpable' : 'DUMPABLE'}`,
    `uptime   ${formatDuration(now - st.startedAt)}`,
    `keys     ${st.keys.length}`,
  ];
  process.stdout.write(out.map(printable).join('\n') + '\n'); // the socket path is a directory's name
  return 0;
}
