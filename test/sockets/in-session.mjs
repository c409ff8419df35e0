// A test's hands inside one audit login session (the test starts this in a fresh
// one): every process it starts inherits the session. Prints {"session":N}, then
// reads one JSON request per line on stdin and answers one JSON line each:
//   {"op":"run","cmd","args","env","cwd"?,"input"?} -> {"code","stdout","stderr"}
//   {"op":"hold","pid":P} -> {"pid"}: starts a sleeper that gets pid P, by setting
//     /proc/sys/kernel/ns_last_pid (root); {"pid":-1} when another process took it.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const held = [];
const reply = (o) => process.stdout.write(JSON.stringify(o) + '\n');

function run(req) {
  return new Promise((resolve) => {
    const c = spawn(req.cmd, req.args, { env: req.env, cwd: req.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.setEncoding('utf8').on('data', (d) => { stdout += d; });
    c.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
    c.on('error', (e) => resolve({ code: -1, stdout, stderr: stderr + e.message }));
    c.on('close', (code, signal) => resolve({ code: code ?? 128 + (signal ? 9 : 0), stdout, stderr }));
    c.stdin.on('error', () => {});
    c.stdin.end(req.input ?? '');
  });
}

function hold(pid) {
  for (let i = 0; i < 20; i++) {
    writeFileSync('/proc/sys/kernel/ns_last_pid', String(pid - 1));
    const c = spawn('sleep', ['600'], { stdio: 'ignore' });
    if (c.pid === pid) {
      held.push(c);
      return { pid };
    }
    c.kill('SIGKILL');
    try {
      readFileSync(`/proc/${pid}/stat`);
      return { pid: -1 }; // someone else holds it now
    } catch {
      // still free: try again
    }
  }
  return { pid: -1 };
}

reply({ session: Number(readFileSync('/proc/self/sessionid', 'utf8')) });
for await (const line of createInterface({ input: process.stdin })) {
  const req = JSON.parse(line);
  reply(req.op === 'hold' ? hold(req.pid) : await run(req));
}
// stdin closed: the test is done with this session.
for (const c of held) c.kill('SIGKILL');
process.exit(0);
