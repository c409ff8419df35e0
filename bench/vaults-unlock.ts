/**
 * `keyrack unlock` of 20 keys spread over five vaults, four keys each: pass (real
 * pass + gpg), keyring (real gnome-keyring-daemon + secret-tool), hashicorp (the
 * test stand-in Vault on 127.0.0.1), aws.secrets (the real AWS CLI v2 against
 * the stand-in endpoint) and cmd (`cat`). Each round unlocks each vault's four
 * keys alone, then all twenty at once, in alternating order; the table compares
 * the wall time of all twenty with the sum of the five parts. Every `unlock` is
 * one CLI process, so each part also pays Node's start: the row "one process"
 * (an unlock with nothing to fetch) says how much. With --latency MS the two
 * stand-in servers answer MS later and each cmd program sleeps that long first,
 * as a remote vault behind a network would.
 *
 *   node --import tsx bench/vaults-unlock.ts [rounds] [--latency MS]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { keyrack, run, sandbox } from '../test/helpers.ts';
import { killAgent, makeKey } from '../test/gpg-fixture.ts';
import { startKeyring } from '../test/keyring-session.ts';
import { VaultServer } from '../test/fakes/vault-server.ts';
import { AwsEndpoint } from '../test/fakes/aws-endpoint.ts';
import { median } from './stats.ts';

const args = process.argv.slice(2);
const li = args.indexOf('--latency');
const latencyMs = li === -1 ? 0 : Number(args.splice(li, 2)[1]);
const rounds = Number(args[0] ?? 5);
const sb = sandbox();
const ring = await startKeyring(sb);
const gnupg = join(sb.home, '.gnupg');
const ids = [0, 1, 2, 3];
const vault = await VaultServer.start({
  token: 'hvs.bench', mounts: { 'secret/': { type: 'kv', version: '2' } },
  kv: Object.fromEntries(ids.map((i) => [`secret/app${i}`, { data: { v: `vault-${i}` } }])),
});
const aws = await AwsEndpoint.start({
  credentials: { AKIABENCHEXAMPLE0001: 'bench/secret' },
  secrets: Object.fromEntries(ids.map((i) => [`bench/s${i}`, { string: `sm-${i}` }])),
  params: {},
});
vault.delayMs = latencyMs;
aws.delayMs = latencyMs;
const awsDir = join(sb.dir, 'aws');
mkdirSync(awsDir);
writeFileSync(join(awsDir, 'config'), '[profile bench]\nregion = us-east-1\n');
writeFileSync(join(awsDir, 'credentials'), '[bench]\naws_access_key_id = AKIABENCHEXAMPLE0001\naws_secret_access_key = bench/secret\n');
const bin = join(sb.dir, 'bin');
mkdirSync(bin);
await run('ln', ['-s', '/usr/bin/aws', join(bin, 'aws')], {});
const env: NodeJS.ProcessEnv = {
  ...ring.env, PATH: `${bin}:${sb.env.PATH}`, GNUPGHOME: gnupg, VAULT_ADDR: vault.addr, VAULT_TOKEN: 'hvs.bench',
  AWS_CONFIG_FILE: join(awsDir, 'config'), AWS_SHARED_CREDENTIALS_FILE: join(awsDir, 'credentials'), AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.url,
};
const must = async (args: string[], input?: string) => {
  const r = await keyrack(args, { env, input });
  if (r.code !== 0) throw new Error(`keyrack ${args.join(' ')}: ${r.stderr}`);
};

const key = await makeKey(gnupg, 'bench <bench@keyrack.invalid>');
await run('pass', ['init', key.fpr], { env });
const parts: Record<string, string[]> = { pass: [], keyring: [], hashicorp: [], 'aws.secrets': [], cmd: [] };
for (const i of ids) {
  await run('pass', ['insert', '-m', `bench/p${i}`], { env, input: `pass-${i}\n` });
  writeFileSync(join(sb.dir, `cmd${i}`), `cmd-${i}\n`);
  await must(['set', `P${i}`, '--vault', 'pass', '--ref', `bench/p${i}`]);
  await must(['set', `R${i}`, '--vault', 'keyring'], `ring-${i}\n`);
  await must(['set', `V${i}`, '--vault', 'hashicorp', '--ref', `secret/app${i}#v`]);
  await must(['set', `S${i}`, '--vault', 'aws.secrets', '--ref', `bench/s${i}`, '--profile', 'bench']);
  await must(['set', `C${i}`, '--vault', 'cmd', '--', ...(latencyMs > 0
    ? ['sh', '-c', `sleep ${latencyMs / 1000}; exec cat "$1"`, 'sh', join(sb.dir, `cmd${i}`)]
    : ['cat', join(sb.dir, `cmd${i}`)])]);
  parts.pass!.push(`P${i}`); parts.keyring!.push(`R${i}`); parts.hashicorp!.push(`V${i}`); parts['aws.secrets']!.push(`S${i}`); parts.cmd!.push(`C${i}`);
}
await must(['set', 'NOTHING', '--vault', 'os.direct'], 'x\n');
const all = Object.values(parts).flat();

async function timed(keys: string[]): Promise<number> {
  await must(['lock']);
  const t0 = performance.now();
  await must(['unlock', ...keys]);
  return performance.now() - t0;
}

const times: Record<string, number[]> = { 'one process': [], ...Object.fromEntries(Object.keys(parts).map((v) => [v, []])), all: [] };
await timed(all); // warm-up: daemon started, gpg-agent and the AWS CLI's caches warm
for (let r = 0; r < rounds; r++) {
  const order = r % 2 === 0 ? Object.keys(parts) : Object.keys(parts).reverse();
  times['one process']!.push(await timed(['NOTHING']));
  for (const v of order) times[v]!.push(await timed(parts[v]!));
  times.all!.push(await timed(all));
}

const med = Object.fromEntries(Object.entries(times).map(([k, xs]) => [k, median(xs)]));
const sum = Object.keys(parts).reduce((a, v) => a + med[v]!, 0);
const startup = med['one process']!;
const row = (label: string, ms: number, note = '') => console.log(`${label.padEnd(34)} ${(ms / 1000).toFixed(2).padStart(6)} s ${note}`);
console.log(`unlock, median of ${rounds} rounds (${all.length} keys, ${Object.keys(parts).length} vaults${latencyMs ? `, ${latencyMs} ms latency on the remote ones` : ''})`);
row('one process (nothing to fetch)', startup);
for (const v of Object.keys(parts)) row(`${v}, 4 keys alone`, med[v]!);
row('sum of the five parts', sum);
row('sum of the parts, less 4 extra starts', sum - 4 * startup);
row('all 20 keys in one unlock', med.all!, `(${(med.all! / sum).toFixed(2)}× the sum; ${(med.all! / (sum - 4 * startup)).toFixed(2)}× without the extra starts)`);
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL(`./results/vaults-unlock${latencyMs ? `-${latencyMs}ms` : ''}.json`, import.meta.url), JSON.stringify({ rounds, latencyMs, times, median: med, sum }, null, 2) + '\n');

await must(['daemon', 'stop']);
await ring.close();
await vault.close();
await aws.close();
await killAgent(gnupg);
sb.cleanup();
