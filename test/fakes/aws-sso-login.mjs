// The browser half of `aws sso login --profile P` for tests (test/fakes/aws runs it).
// The real command prints a URL and a code, waits while the user approves in a
// browser, then saves an SSO access token under ~/.aws/sso/cache. Offline, the AWS
// CLI would then fail to trade that token for role credentials, so this stand-in
// also does that half: it writes the role credentials into the AWS CLI's own cache
// (~/.aws/cli/cache, keyed exactly as botocore keys it), where the real
// `aws configure export-credentials` then finds and returns them.
// $FAKE_AWS_LOGIN names a JSON file: { delayMs?, hang?, exitCode?, expiresInS?,
// credentials?: {AccessKeyId, SecretAccessKey, SessionToken} }.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

const argv = process.argv.slice(2);
const home = process.env.HOME || homedir();
const opts = process.env.FAKE_AWS_LOGIN ? JSON.parse(readFileSync(process.env.FAKE_AWS_LOGIN, 'utf8')) : {};

let profile = process.env.AWS_PROFILE || 'default';
for (let i = 2; i < argv.length; i++) {
  if (argv[i] === '--profile') profile = argv[++i];
  else if (argv[i].startsWith('--profile=')) profile = argv[i].slice('--profile='.length);
}

function ini(path) {
  const sections = {};
  let cur = null;
  let text = '';
  try { text = readFileSync(path, 'utf8'); } catch { return sections; }
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const s = /^\[(.+)\]$/.exec(line);
    if (s) { cur = sections[s[1].trim()] = {}; continue; }
    const kv = /^([^=]+)=(.*)$/.exec(line);
    if (kv && cur) cur[kv[1].trim()] = kv[2].trim();
  }
  return sections;
}

const config = ini(process.env.AWS_CONFIG_FILE || join(home, '.aws', 'config'));
const prof = config[profile === 'default' ? 'default' : `profile ${profile}`];
if (!prof) {
  process.stderr.write(`\nThe config profile (${profile}) could not be found\n`);
  process.exit(255);
}
const sessionName = prof.sso_session;
const sess = sessionName ? config[`sso-session ${sessionName}`] || {} : prof;
const startUrl = sess.sso_start_url;
const region = sess.sso_region;
const missing = [!startUrl && 'sso_start_url', !region && 'sso_region'].filter(Boolean);
if (missing.length) {
  process.stderr.write(`\nMissing the following required SSO configuration values: ${missing.join(', ')}. To make sure this profile is properly configured to use SSO, please run: aws configure sso\n`);
  process.exit(253);
}

const code = `${randomBytes(2).toString('hex').toUpperCase()}-${randomBytes(2).toString('hex').toUpperCase()}`;
process.stdout.write(
  'Attempting to automatically open the SSO authorization page in your default browser.\n' +
  'If the browser does not open or you wish to use a different device to authorize this request, open the following URL:\n' +
  `\nhttps://device.sso.${region}.amazonaws.com/\n` +
  `\nThen enter the code:\n\n${code}\n`,
);

const iso = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const sha1 = (s) => createHash('sha1').update(s, 'utf8').digest('hex');

if (opts.hang) setInterval(() => {}, 1 << 30);
else setTimeout(() => {
  if (opts.exitCode) {
    process.stderr.write('\nThe pending authorization to retrieve an SSO token has expired. The device authorization flow to retrieve an SSO token must be restarted.\n');
    process.exit(opts.exitCode);
  }
  const now = Date.now();
  const tokenDir = join(home, '.aws', 'sso', 'cache');
  mkdirSync(tokenDir, { recursive: true, mode: 0o700 });
  const token = { startUrl, region, accessToken: randomBytes(24).toString('base64'), expiresAt: iso(now + 8 * 3600_000) };
  writeFileSync(join(tokenDir, `${sha1(sessionName || startUrl)}.json`), JSON.stringify(token), { mode: 0o600 });

  if (prof.sso_account_id && prof.sso_role_name) {
    // botocore's SSOCredentialFetcher cache key: sha1 of the sorted, compact JSON.
    const args = sessionName
      ? { accountId: prof.sso_account_id, roleName: prof.sso_role_name, sessionName }
      : { accountId: prof.sso_account_id, roleName: prof.sso_role_name, startUrl };
    const key = sha1(JSON.stringify(args, Object.keys(args).sort()));
    const c = opts.credentials || {
      AccessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
      SecretAccessKey: randomBytes(30).toString('base64'),
      SessionToken: randomBytes(60).toString('base64'),
    };
    const credDir = join(home, '.aws', 'cli', 'cache');
    mkdirSync(credDir, { recursive: true, mode: 0o700 });
    writeFileSync(join(credDir, `${key}.json`), JSON.stringify({
      ProviderType: 'sso',
      Credentials: { ...c, Expiration: iso(now + (opts.expiresInS ?? 3600) * 1000) },
    }), { mode: 0o600 });
  }
  process.stdout.write(`Successfully logged into Start URL: ${startUrl}\n`);
}, opts.delayMs ?? 200);
