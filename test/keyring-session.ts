/**
 * A real desktop keyring for the keyring tests: a session bus from
 * `dbus-run-session` with a real `gnome-keyring-daemon` on it, unlocked with a
 * test password, its files in the sandbox (XDG_DATA_HOME, XDG_RUNTIME_DIR). The
 * daemon runs in the foreground of the session, so the test knows its pid (to
 * freeze it: a Secret Service that never answers). `bare` gives a bus with no
 * service files at all: no Secret Service can be started on it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Sandbox } from './helpers.ts';

export interface KeyringSession {
  /** sb.env plus DBUS_SESSION_BUS_ADDRESS. */
  env: NodeJS.ProcessEnv;
  /** gnome-keyring-daemon's pid (undefined on a bare bus). */
  daemonPid?: number;
  close(): Promise<void>;
}

const PASSWORD = 'keyring test password';

// Waits (without activating anything) until the keyring owns org.freedesktop.secrets.
const SCRIPT = `
printf '%s\\n' "$DBUS_SESSION_BUS_ADDRESS"
if [ "$1" = keyring ]; then
  printf %s "$KR_KEYRING_PASSWORD" | gnome-keyring-daemon --foreground --unlock --components=secrets >/dev/null 2>&1 &
  printf '%s\\n' "$!"
  i=0
  until dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q 'boolean true'; do
    i=$((i + 1)); [ $i -gt 200 ] && exit 1; sleep 0.05
  done
fi
echo READY
exec cat
`;

export async function startKeyring(sb: Sandbox, kind: 'keyring' | 'bare' = 'keyring'): Promise<KeyringSession> {
  const args: string[] = [];
  if (kind === 'bare') {
    const conf = join(sb.dir, 'bare-bus.conf');
    writeFileSync(conf, `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>session</type><listen>unix:tmpdir=${sb.dir}</listen><auth>EXTERNAL</auth>
<policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/></policy></busconfig>
`);
    args.push(`--config-file=${conf}`);
  }
  const child: ChildProcess = spawn('dbus-run-session', [...args, '--', 'sh', '-c', SCRIPT, 'sh', kind], {
    env: { ...sb.env, KR_KEYRING_PASSWORD: PASSWORD }, stdio: ['pipe', 'pipe', 'ignore'],
  });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.includes('READY\n')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`the keyring session ended early (exit ${code}): ${out}`)));
  });
  const [addr, pid] = out.split('\n');
  const s: KeyringSession = {
    env: { ...sb.env, DBUS_SESSION_BUS_ADDRESS: addr! },
    close: async () => {
      if (s.daemonPid !== undefined) {
        try { process.kill(s.daemonPid, 'SIGCONT'); process.kill(s.daemonPid, 'SIGTERM'); } catch { /* gone */ }
      }
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      child.stdin!.end();
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(t);
    },
  };
  if (kind === 'keyring') s.daemonPid = Number(pid);
  return s;
}
