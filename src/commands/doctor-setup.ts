/**
 * doctor's look at what this user's keys need, and nothing they do not use: the
 * os.secure identity and recipient when os.secure keys are registered (or an
 * identity exists), a file for every os.secure key, a value for every os.direct
 * key, the vault files private; and the manifest here, in the words of
 * env/readiness.ts. A missing file is named, with what to do about it.
 */
import { someNames } from '../say.js';
import type { Finding } from './doctor-finding.js';
import { lstatSync } from 'node:fs';
import { messageOf } from '../errors.js';
import { loadManifest } from '../env/manifest.js';
import { keyStates, words } from '../env/readiness.js';
import { currentDir } from '../env/scope.js';
import { trustOf } from '../env/trust.js';
import { readIfExists } from '../fsutil.js';
import { files, type Env } from '../paths.js';
import type { Registry } from '../registry.js';


const list = (names: string[]) => someNames(names, 6);

/** A file of ours that others may read or write: mode and owner as lstat sees them. */
function loose(path: string): string | null {
  try {
    const st = lstatSync(path);
    return (st.mode & 0o077) !== 0 ? (st.mode & 0o777).toString(8) : null;
  } catch {
    return null;
  }
}

function secureFindings(reg: Registry, env: Env): Finding[] {
  const f: Finding[] = [];
  const names = Object.keys(reg.keys).filter((n) => reg.keys[n]!.vault === 'os.secure');
  const identity = files.identity(env);
  const hasIdentity = readIfExists(identity) !== undefined;
  if (!hasIdentity) {
    if (names.length > 0) {
      f.push({
        level: 'FAIL', what: `no os.secure identity (${identity}), but ${names.length === 1 ? 'a key uses' : `${names.length} keys use`} os.secure (${list(names)}): their values cannot be read without it`,
        fix: 'restore your backup: keyrack restore FILE (or keyrack init for a new identity, then keyrack set each key again)',
      });
    }
    return f;
  }
  f.push({ level: 'ok', what: `os.secure identity ${identity} (encrypted with your passphrase)` });
  const recipient = files.recipient(env);
  const r = readIfExists(recipient)?.toString('utf8').trim();
  if (r === undefined) f.push({ level: 'FAIL', what: `${recipient} is missing: keyrack set cannot encrypt new os.secure keys`, fix: `age -d ${identity} | age-keygen -y > ${recipient}` });
  else if (!/^age1[0-9a-z]+$/.test(r)) f.push({ level: 'FAIL', what: `${recipient} does not hold an age recipient (age1…)`, fix: `age -d ${identity} | age-keygen -y > ${recipient}` });
  const lost = names.filter((n) => readIfExists(files.secureKey(n, env)) === undefined);
  if (lost.length > 0) {
    f.push({
      level: 'FAIL', what: `${list(lost)}: registered in os.secure, but ${lost.length === 1 ? 'its file is' : 'their files are'} missing (${files.secureKey(lost[0]!, env)}${lost.length > 1 ? ', …' : ''})`,
      fix: `keyrack set ${lost.length === 1 ? lost[0] : 'KEY'} to store a value again, keyrack rm it, or keyrack restore a backup`,
    });
  } else if (names.length > 0) {
    f.push({ level: 'ok', what: `os.secure: a file for each of its ${names.length} ${names.length === 1 ? 'key' : 'keys'}` });
  }
  const mode = loose(identity);
  if (mode) f.push({ level: 'FAIL', what: `${identity} has mode ${mode}: others may read it`, fix: `chmod 600 ${identity}` });
  return f;
}

async function directFindings(reg: Registry, env: Env): Promise<Finding[]> {
  const names = Object.keys(reg.keys).filter((n) => reg.keys[n]!.vault === 'os.direct');
  if (names.length === 0) return [];
  const path = files.directVault(env);
  let have: Map<string, string>;
  try {
    have = (await import('../vaults/direct.js')).readDirect(names, env);
  } catch (e) {
    return [{ level: 'FAIL', what: `os.direct: ${messageOf(e)}` }];
  }
  const f: Finding[] = [];
  const lost = names.filter((n) => !have.has(n));
  if (lost.length > 0) {
    f.push({ level: 'FAIL', what: `${list(lost)}: registered in os.direct, but ${path} holds no value for ${lost.length === 1 ? 'it' : 'them'}`, fix: `keyrack set ${lost.length === 1 ? lost[0] : 'KEY'}, keyrack rm it, or keyrack restore a backup` });
  } else {
    f.push({ level: 'ok', what: `os.direct: a value for each of its ${names.length} ${names.length === 1 ? 'key' : 'keys'} (${path}, plaintext)` });
  }
  const mode = loose(path);
  if (mode) f.push({ level: 'FAIL', what: `${path} has mode ${mode}: others may read your os.direct values`, fix: `chmod 600 ${path}` });
  return f;
}

/** The nearest manifest, when there is one: its trust and its keys' states. */
async function manifestFindings(reg: Registry, env: Env): Promise<Finding[]> {
  let m;
  try {
    m = loadManifest(currentDir(env));
  } catch (e) {
    return [{ level: 'FAIL', what: `manifest: ${messageOf(e)}` }];
  }
  if (!m) return [];
  const trust = trustOf(m, env);
  if (trust !== 'allowed') return [{ level: 'warn', what: `${m.path}: ${words.trust(trust)}` }];
  const required = m.entries.filter((e) => !e.optional).map((e) => e.key);
  const states = await keyStates(required, reg, new Set(), env);
  const absent = required.filter((k) => states.get(k) === 'absent');
  if (absent.length > 0) return [{ level: 'warn', what: `${m.path}: ${words.absent(absent, 'sentence')}` }];
  return [{ level: 'ok', what: `${m.path}: allowed; each key it needs is registered` }];
}

/** What doctor says about the keys this user has, after the runtime checks. */
export async function setupFindings(reg: Registry | null, env: Env): Promise<Finding[]> {
  if (!reg) return [];
  return [...secureFindings(reg, env), ...await directFindings(reg, env), ...await manifestFindings(reg, env)];
}
