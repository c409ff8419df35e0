// A fake keyrack daemon for the client-check tests: listens at SOCKET, greets every
// connection with a hello (by default claiming to be SOCKET's session daemon) and
// answers each request with what ANSWERS.json holds for its op — code that creates
// files, BASH_ENV in exec's vars — to show that a client that talks to it would be
// harmed. Prints one line per event: "listening PID SESSION", "connection",
// "bytes N" (anything a client sent).
//   node fake-daemon.mjs SOCKET ANSWERS.json
// ANSWERS.json: { "hello"?: {...}, "<op>": { ...fields of the ok answer } }, read
// again for every request, so a test can change the answers between clients.
import { createServer } from 'node:net';
import { readFileSync } from 'node:fs';

const [path, answersFile] = process.argv.slice(2);
const answers = () => JSON.parse(readFileSync(answersFile, 'utf8'));
const sid = Number(readFileSync('/proc/self/sessionid', 'utf8'));
const session = sid === 4294967295 ? null : sid;
const m = /keyrack\.(\d+)\.sock$/.exec(path);
const hello = { keyrack: 1, pid: process.pid, session: m ? Number(m[1]) : null, mode: m ? 'session' : 'uid-only', gen: 'fake', ...answers().hello };

const server = createServer((s) => {
  process.stdout.write('connection\n');
  s.on('error', () => {});
  s.write(JSON.stringify(hello) + '\n');
  let buf = '';
  s.on('data', (d) => {
    process.stdout.write(`bytes ${d.length}\n`);
    buf += d;
    let nl;
    while ((nl = buf.indexOf('\n')) !== -1) {
      const req = JSON.parse(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
      s.write(JSON.stringify({ id: req.id, ok: true, code: 0, ...answers()[req.op] }) + '\n');
    }
  });
});
server.listen(path, () => process.stdout.write(`listening ${process.pid} ${session}\n`));
process.on('SIGTERM', () => { server.close(); process.exit(0); });
