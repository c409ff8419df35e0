// Opens a connection to this session's daemon with the real client and prints the
// pid its hello names ("none" when no daemon runs); the error, and exit 1, otherwise.
//   node --import tsx connect.ts   (the sandbox environment in process.env)
import { DaemonConnection } from '../../src/daemon/client.ts';

try {
  const c = await DaemonConnection.open();
  process.stdout.write(`${c ? c.hello.pid : 'none'}\n`);
  c?.close();
} catch (e) {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exitCode = 1;
}
