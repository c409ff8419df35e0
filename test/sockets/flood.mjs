// A refused caller that never gives up: keeps CONCURRENCY connections to SOCKET in
// flight, and reconnects each one the moment the daemon refuses or drops it (as
// the 2,100 connections, 182,795 reconnects in 14 s did). Run it in another
// login session than the daemon's. Stops after TOTAL connects (0: until SIGTERM),
// then prints one JSON line: {"connects", "refused", "served", "errors": {code: n}}.
// Before that: `flooding` once all are started, and `recycling` once it has been
// refused more times than it keeps connections (so the flood is real from then on).
//   node flood.mjs SOCKET CONCURRENCY [TOTAL]
import { createConnection } from 'node:net';

const [path, concurrency, total = '0'] = process.argv.slice(2);
const limit = Number(total);
const stats = { connects: 0, refused: 0, served: 0, errors: {} };
let live = 0;
let stopping = false;
let recycling = false;

function finish() {
  if (stopping) return;
  stopping = true;
  process.stdout.write(JSON.stringify(stats) + '\n', () => process.exit(0));
}

function one() {
  if (stopping) return;
  if (limit > 0 && stats.connects >= limit) {
    if (live === 0) finish();
    return;
  }
  stats.connects++;
  live++;
  const s = createConnection(path);
  let done = false;
  const again = () => {
    if (done) return;
    done = true;
    live--;
    s.destroy();
    // setImmediate: a refused connect fails at once, and must not recurse.
    setImmediate(one);
  };
  s.on('data', (d) => {
    if (d.includes('"refused"')) {
      stats.refused++;
      if (!recycling && stats.refused > Number(concurrency)) {
        recycling = true;
        process.stdout.write('recycling\n');
      }
    } else stats.served++; // a hello: this flooder is not refused (wrong set-up)
    again();
  });
  s.on('error', (e) => {
    stats.errors[e.code ?? e.message] = (stats.errors[e.code ?? e.message] ?? 0) + 1;
    again();
  });
  s.on('close', again);
}

process.on('SIGTERM', finish);
for (let i = 0; i < Number(concurrency); i++) one();
process.stdout.write('flooding\n');
