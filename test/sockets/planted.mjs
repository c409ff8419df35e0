// A socket planted by another user: listens at the given path, greets every
// connection like a keyrack daemon would (to tempt the client into talking), and
// prints one line per event: "listening", "connection", "bytes N".
import { createServer } from 'node:net';
import { chmodSync } from 'node:fs';

const path = process.argv[2];
const server = createServer((s) => {
  process.stdout.write('connection\n');
  s.write(JSON.stringify({ keyrack: 1, pid: process.pid, session: null, mode: 'uid-only', gen: 'x' }) + '\n');
  s.on('data', (d) => process.stdout.write(`bytes ${d.length}\n`));
  s.on('error', () => {});
});
server.listen(path, () => {
  chmodSync(path, 0o777);
  process.stdout.write('listening\n');
});
process.on('SIGTERM', () => { server.close(); process.exit(0); });
