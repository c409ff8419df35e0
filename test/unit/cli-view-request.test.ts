/**
 * The cli-view request (keyrack-fast's status and list): parseRequest takes exactly
 * the fields the daemon's views need, typed, and answers anything else with an error
 * that names the field and never quotes the input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRequest } from '../../src/daemon/protocol.ts';

const good = {
  id: 3, op: 'cli-view', view: 'list', json: false, names: true, tty: true, session: 7,
  verified: 'session', socket: '/run/user/0/keyrack.7.sock', cwd: '/tmp', env: { HOME: '/root', NO_COLOR: '' },
};

test('a cli-view request comes back as it was sent', () => {
  const r = parseRequest(good);
  assert.deepEqual(JSON.parse(JSON.stringify(r)), good);
  const uidOnly = parseRequest({ ...good, view: 'status', session: null, verified: 'user-wide, uid-only' });
  assert.deepEqual('error' in uidOnly ? uidOnly : [uidOnly.op, uidOnly.op === 'cli-view' && uidOnly.session], ['cli-view', null]);
});

test('a cli-view request with a field out of shape is refused, naming the field, quoting nothing', () => {
  const secret = 'sk-live-SECRET';
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ view: 'get' }, /^view must be status or list$/],
    [{ view: undefined }, /^view must be status or list$/],
    [{ json: 'yes' }, /^json, names and tty must be booleans$/],
    [{ names: undefined }, /^json, names and tty must be booleans$/],
    [{ tty: 1 }, /^json, names and tty must be booleans$/],
    [{ verified: 'trust me' }, /^verified must say how the client checked the daemon$/],
    [{ verified: undefined }, /^verified must say how the client checked the daemon$/],
    [{ socket: 'relative.sock' }, /^socket must be an absolute path$/],
    [{ socket: `/tmp/${secret}\0` }, /^socket must be an absolute path$/],
    [{ socket: `/${'x'.repeat(5000)}` }, /^socket must be an absolute path$/],
    [{ session: -1 }, /^session must be a number or null$/],
    [{ session: 1.5 }, /^session must be a number or null$/],
    [{ session: '7' }, /^session must be a number or null$/],
    [{ session: undefined }, /^session must be a number or null$/],
    [{ cwd: secret }, /^cwd must be an absolute path$/],
    [{ env: { [secret]: '\0' } }, /^bad variable in env$/],
  ];
  for (const [change, why] of cases) {
    const r = parseRequest({ ...good, ...change });
    assert.ok('error' in r, `${JSON.stringify(change)}: refused`);
    assert.equal(r.id, 3);
    assert.match(r.error, why, JSON.stringify(change));
    assert.ok(!r.error.includes(secret));
  }
});
