// A raw client for the daemon tests: connects to a socket path WITHOUT any check of
// its own, sends the given frames verbatim, and prints what came back as one JSON
// line: {"frames": [...], "closed": bool, "error"?: string}.
//   node probe.mjs SOCKET [FRAME...]   FRAME "@big:N" sends N bytes with no newline;
//                                      "@raw:TEXT" sends TEXT without adding "\n".
import { createConnection } from 'node:net';

const [path, ...sends] = process.argv.slice(2);
const frames = [];
let buf = '';
let closed = false;
let error;
const expect = 1 + sends.filter((s) => !s.startsWith('@')).length;
const s = createConnection(path);
const finish = () => {
  process.stdout.write(JSON.stringify({ frames, closed, error }) + '\n');
  process.exit(0);
};
setTimeout(finish, Number(process.env.PROBE_WAIT_MS ?? 5000));
s.setEncoding('utf8');
s.on('error', (e) => { error = e.code ?? e.message; });
s.on('close', () => { closed = true; finish(); });
s.on('data', (d) => {
  buf += d;
  let nl;
  while ((nl = buf.indexOf('\n')) !== -1) {
    frames.push(JSON.parse(buf.slice(0, nl)));
    buf = buf.slice(nl + 1);
  }
  if (frames.length === 1 && frames[0].keyrack) {
    for (const f of sends) {
      if (f.startsWith('@big:')) s.write('x'.repeat(Number(f.slice(5))));
      else if (f.startsWith('@raw:')) s.write(f.slice(5));
      else s.write(f + '\n');
    }
  }
  if (frames.length >= expect && !process.env.PROBE_WAIT_CLOSE) finish();
});
