/**
 * The manifest's rules as a stranger would probe them (issue 10, items 2 and 3):
 * an alias cannot route your key into a variable that runs code, changes behaviour
 * or publishes it; the hard list is refused in every form; a line that fails is
 * never echoed beyond its name, and a value pasted in is called one, not printed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseManifest, ManifestError } from '../../src/env/manifest.ts';
import { aliasProblem, envNameProblem, HARD_NAMES, HARD_PREFIXES } from '../../src/env/names.ts';
import { entriesFromKeys } from '../../src/env/scope.ts';
import { FAMILIES } from '../../src/env/variables.ts';
import { printable, printableJson } from '../../src/printable.ts';

import { P, refusal } from './manifest-refusal.ts';

test('the issue\'s aliases are refused with file:line and the reason', () => {
  const cases: Array<[string, RegExp]> = [
    ['PERLLIB = SENTRY_DSN', /PERLLIB changes how programs or shells run — it is read by perl, and a value there can load and run code/],
    ['XDG_DATA_DIRS = SENTRY_DSN', /XDG_DATA_DIRS changes how programs or shells run — it is read by programs that follow the XDG base directories/],
    ['GIT_HTTP_USER_AGENT = GITHUB_TOKEN', /GIT_HTTP_USER_AGENT = GITHUB_TOKEN: an alias cannot fill GIT_HTTP_USER_AGENT — it is read by git, .*send the value to remotes.*\(GIT_\*\); only your own key named GIT_HTTP_USER_AGENT may set it/],
    ['ARGV0 = GITHUB_TOKEN', /ARGV0 changes how programs or shells run — it is read by zsh, .*shows the value to other users \(ARGV0 in ps\)/],
    ['GIT_SSL_NO_VERIFY = NPM_TOKEN', /an alias cannot fill GIT_SSL_NO_VERIFY — it is read by git, .*turn off TLS checks/],
  ];
  for (const [line, reason] of cases) {
    const e = refusal(`GOOD\n# a comment\n${line}\n`);
    assert.equal(e.line, 3, line);
    assert.match(e.message, new RegExp(`^${P.replaceAll('.', '\\.')}:3: `), line);
    assert.match(e.reason, reason, line);
  }
});

test('an alias into any family is refused; the same name is not, unless it is on the hard list', () => {
  const aliasOnly = ['HTTPS_PROXY', 'https_proxy', 'No_Proxy', 'npm_config_registry', 'NPM_CONFIG__AUTH', 'Npm_Config_x', 'GOFLAGS',
    'GOPROXY', 'GO_EXTLINK_ENABLED', 'CARGO_REGISTRY_TOKEN', 'RUSTC_BOOTSTRAP', 'DOCKER_HOST', 'KUBECONFIG', 'AWS_CONFIG_FILE',
    'AWS_SHARED_CREDENTIALS_FILE', 'AWS_ENDPOINT_URL_S3', 'LC_ALL', 'LANG', 'TZ', 'SSL_CERT_FILE', 'SSLKEYLOGFILE', 'CURL_HOME',
    'REQUESTS_CA_BUNDLE', 'PIP_INDEX_URL', 'GEM_HOST_API_KEY', 'LUA_PATH', 'CLASSPATH', 'MALLOC_CHECK_', 'GIT_TRACE', 'SSH_PRIVATE_KEY',
    'LESSKEY', 'TERMINFO_X', 'XDG_SESSION_TYPE', 'PYTHONDONTWRITEBYTECODE', 'PERL_MM_OPT', 'RUBYSHELL', 'NODE_AUTH_TOKEN', 'EMAIL',
    'PS9', 'PROMPT_X', 'HISTORYFOO', 'CC', 'CFLAGS', 'DBUS_X'];
  for (const name of aliasOnly) {
    assert.equal(envNameProblem(name), null, `${name} is not on the hard list`);
    assert.match(aliasProblem(name, 'other-key') ?? '', new RegExp(`an alias cannot fill ${name} — it is read by `), name);
    assert.equal(aliasProblem(name, name), null, `${name} from the user's own key of that name`);
    assert.deepEqual(parseManifest(P, `${name}\n`).entries.map((e) => e.env), [name]);
  }
  // The user's own HTTPS_PROXY, by name: allowed, and exec --key follows the same rules.
  assert.deepEqual(entriesFromKeys(['HTTPS_PROXY']).map((e) => [e.env, e.key]), [['HTTPS_PROXY', 'HTTPS_PROXY']]);
  assert.throws(() => entriesFromKeys(['GIT_HTTP_USER_AGENT=GITHUB_TOKEN']), /^Error: --key: GIT_HTTP_USER_AGENT = GITHUB_TOKEN: an alias cannot fill/);
  assert.throws(() => entriesFromKeys(['PERLLIB=SENTRY_DSN']), /--key: PERLLIB changes how programs or shells run/);
  // Names that only look like a family stay free: Go's have no underscore after GO, there is no PSQL prompt.
  for (const name of ['GOOGLE_API_KEY', 'GODADDY_KEY', 'PSQL_PASSWORD', 'PROMPTLAYER_API_KEY', 'GITHUB_TOKEN', 'NPM_TOKEN', 'SENTRY_DSN']) {
    assert.equal(aliasProblem(name, 'k'), null, name);
  }
});

test('the hard list is refused in every form, and keeps every name refused before', () => {
  const before = ['PATH', 'HOME', 'SHELL', 'USER', 'LOGNAME', 'IFS', 'ENV', 'BASH_ENV', 'CDPATH', 'GLOBIGNORE', 'PROMPT_COMMAND', 'PS0',
    'PS1', 'PS2', 'PS3', 'PS4', 'SHELLOPTS', 'BASHOPTS', 'HISTFILE', 'FPATH', 'ZDOTDIR', 'ZSH', 'MAILPATH', 'TERM', 'TERMINFO', 'TMPDIR',
    'PWD', 'OLDPWD', 'NODE_OPTIONS', 'NODE_PATH', 'NODE_EXTRA_CA_CERTS', 'PYTHONPATH', 'PYTHONSTARTUP', 'PYTHONHOME', 'PERL5LIB',
    'PERL5OPT', 'RUBYLIB', 'RUBYOPT', 'GIT_SSH', 'GIT_SSH_COMMAND', 'GIT_EXEC_PATH', 'EDITOR', 'VISUAL', 'PAGER', 'BROWSER',
    'SSH_AUTH_SOCK', 'GNUPGHOME', 'XDG_CONFIG_HOME', 'XDG_DATA_HOME', 'XDG_STATE_HOME', 'XDG_RUNTIME_DIR', 'XDG_CACHE_HOME',
    'BASH_XTRACEFD', 'BASH_COMPAT', 'BASH_LOADABLES_PATH', 'EXECIGNORE', 'HISTCONTROL', 'HISTTIMEFORMAT', 'INPUTRC', 'TMOUT', 'MAIL',
    'SHLVL', 'UID', 'EUID', 'PPID', 'RANDOM', 'SECONDS', 'LINENO', 'OPTIND', 'path', 'fpath', 'cdpath', 'manpath', 'module_path',
    'mailpath', 'prompt', 'PROMPT', 'PROMPT2', 'PROMPT3', 'PROMPT4', 'RPROMPT', 'RPROMPT2', 'RPS1', 'RPS2', 'histchars',
    'precmd_functions', 'chpwd_functions', 'preexec_functions', 'ZLE_RPROMPT_INDENT', 'status', 'pipestatus', 'version', 'hostname',
    'history', 'argv', 'umask', 'CMD_DURATION'];
  const beforePrefixes = ['LD_', 'DYLD_', 'KEYRACK_', 'BASH_FUNC_', 'DIRENV_', 'fish_', '__fish', '__keyrack'];
  // Found by research to be dangerous with any value, the user's own included.
  const added = ['ARGV0', 'NULLCMD', 'READNULLCMD', 'SPROMPT', 'STTY', 'PERLLIB', 'XDG_DATA_DIRS', 'GCONV_PATH', 'GLIBC_TUNABLES',
    'JAVA_TOOL_OPTIONS', '_JAVA_OPTIONS', 'JDK_JAVA_OPTIONS', 'GIT_CONFIG_COUNT', 'GIT_CONFIG_KEY_0', 'GIT_ASKPASS', 'LESSOPEN',
    'OPENSSL_CONF', 'DBUS_SESSION_BUS_ADDRESS', 'LUA_INIT', 'BASH_ARGV0', 'ZSH_CUSTOM'];
  for (const name of [...before, ...beforePrefixes.map((p) => `${p}X`), ...added]) {
    const hard = HARD_NAMES.has(name) || HARD_PREFIXES.some((p) => name.startsWith(p));
    assert.ok(hard, `${name} is on the hard list`);
    assert.match(envNameProblem(name) ?? '', /changes how programs or shells run.* — it is read by .*; keyrack will not set it$/, name);
    assert.match(refusal(`${name}\n`).reason, /changes how programs or shells run/, `${name} by its own name`);
    assert.match(refusal(`${name} = k\n`).reason, /changes how programs or shells run/, `${name} as an alias`);
  }
});

test('the data: every family says who reads it and what goes wrong, and has a rule', () => {
  for (const f of FAMILIES) {
    assert.ok(f.reader.length > 1 && f.risk.length > 10, JSON.stringify(f));
    const rules = [f.hard, f.hardPrefixes, f.names, f.prefixes, f.suffixes, f.patterns].reduce((n, r) => n + (r?.length ?? 0), 0);
    assert.ok(rules > 0, f.reader);
  }
  for (const n of HARD_NAMES) assert.match(n, /^[A-Za-z_][A-Za-z0-9_]*$/);
});

const valueLines: Array<[line: string, name: string | null, secret: string]> = [
  // The name part the message may show (null: none), and the part it must never show.
  ['GITHUB_TOKEN=ghp_16C7e42F292c6912E7710c838347Ae178B4a', 'GITHUB_TOKEN', 'ghp_16C7e42F292c6912E7710c838347Ae178B4a'],
  ['SENTRY_DSN = https://0123abcd@o1.ingest.sentry.io/4242', 'SENTRY_DSN', 'https://0123abcd@o1.ingest.sentry.io/4242'],
  ['API_KEY = "correct horse battery"', 'API_KEY', '"correct horse battery"'],
  ['DB_URL: postgres://admin:hunter22@db.internal/app', 'DB_URL', 'postgres://admin:hunter22@db.internal/app'],
  ['export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY', 'AWS_SECRET_ACCESS_KEY', 'wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY'],
  ['TOKEN = da39a3ee5e6b4b0d3255bfef95601890afd80709', 'TOKEN', 'da39a3ee5e6b4b0d3255bfef95601890afd80709'],
  ['SLACK = xoxb-2401234567-ABCDEFGHIJKLMNOPqrstuvwx', 'SLACK', 'xoxb-2401234567-ABCDEFGHIJKLMNOPqrstuvwx'],
  ['machine github.com login alice password hunter22', 'machine', 'github.com login alice password hunter22'],
  ['AKIAIOSFODNN7EXAMPLE', null, 'AKIAIOSFODNN7EXAMPLE'],
  ['ghp_16C7e42F292c6912E7710c838347Ae178B4a', null, 'ghp_16C7e42F292c6912E7710c838347Ae178B4a'],
  ['https://alice:ghp_16C7e42F292c6912E7710c838347Ae178B4a@github.com', null, 'https://alice:ghp_16C7e42F292c6912E7710c838347Ae178B4a@github.com'],
  ['-----BEGIN OPENSSH PRIVATE KEY-----', null, '-----BEGIN OPENSSH PRIVATE KEY-----'],
];

test('a value pasted into a .keyrack is called one, never printed, and the user is told to rotate it', () => {
  for (const [line, name, secret] of valueLines) {
    const e = refusal(`OK_NAME\n${line}\n`);
    assert.equal(e.line, 2, line);
    assert.match(e.reason, name === null ? /^cannot read this line: it looks like a value, not a name/ : new RegExp(`^cannot read ${name}: what follows the name looks like a value`), line);
    assert.match(e.reason, /a \.keyrack lists names, never values: if this is a real secret, rotate it now/, line);
    for (let i = 0; i + 4 <= secret.length; i++) {
      const piece = secret.slice(i, i + 4);
      assert.ok(!e.message.includes(piece), `${line}: the message quotes ${JSON.stringify(piece)}: ${e.message}`);
    }
  }
});

test('names that are names are not mistaken for values', () => {
  const m = parseManifest(P, 'A = project2024production\nB = github.work-token\nC = NPM_TOKEN_V2\nD=k.1\nE = myProjectGithubToken\n');
  assert.deepEqual(m.entries.map((e) => e.key), ['project2024production', 'github.work-token', 'NPM_TOKEN_V2', 'k.1', 'myProjectGithubToken']);
});

/** Characters no message is made of: a 4-character window holding one was quoted from the line. */
const RARE = ['é', 'ß', '中', '🔑', 'Ω', 'ж', 'ø', '語'];

test('property: no refusal quotes 4 or more characters of what follows the name', () => {
  const name = fc.oneof(fc.stringMatching(/^[A-Z][A-Z0-9_]{0,12}$/), fc.constantFrom('A', 'PATH', 'GIT_X', 'export A'));
  const sep = fc.constantFrom('=', ' = ', ': ', ' ', '\t', '=\t', '? = ', ':');
  // Every 3rd character is rare, so every window of 4 holds one.
  const rhs = fc.array(fc.tuple(fc.string({ minLength: 2, maxLength: 2, unit: 'binary' }), fc.constantFrom(...RARE)), { minLength: 2, maxLength: 12 })
    .map((parts) => parts.map(([a, r]) => a.replace(/[\n#\0]/g, 'x') + r).join(''));
  fc.assert(fc.property(name, sep, rhs, (n, s, v) => {
    const line = `${n}${s}${v}`;
    let message = '';
    try {
      parseManifest(P, `${line}\n`);
      assert.fail(`${JSON.stringify(line)} parsed`);
    } catch (e) {
      assert.ok(e instanceof ManifestError);
      message = e.message;
    }
    const right = v.trim();
    for (let i = 0; i + 4 <= right.length; i++) assert.ok(!message.includes(right.slice(i, i + 4)), `${JSON.stringify(line)} → ${message}`);
    assert.equal(printable(message), message, 'the message holds no control character');
  }), { seed: 10, numRuns: 1500 });
});

test('property: a token-shaped right-hand side is never quoted either', () => {
  // Holding a character no key name has, so it is a value, never a key name (which an alias message would name).
  const token = fc.stringMatching(/^[A-Za-z0-9+/_:@.-]{12,40}$/).filter((t) => /[+/:@]/.test(t));
  fc.assert(fc.property(fc.stringMatching(/^[A-Z][A-Z0-9_]{0,8}$/), token, (n, t) => {
    let message: string | undefined;
    try {
      parseManifest(P, `${n} = ${t}\n`);
    } catch (e) {
      assert.ok(e instanceof ManifestError);
      message = e.message;
    }
    assert.ok(message !== undefined, `${n} = ${t} parsed`);
    // Windows of 8: long enough that a message's own words never collide by chance.
    for (let i = 0; i + 8 <= t.length; i++) assert.ok(!message.includes(t.slice(i, i + 8)) || n.includes(t.slice(i, i + 8)), `${n} = ${t} → ${message}`);
  }), { seed: 11, numRuns: 1500 });
});

test('printable shows every control character as an escape', () => {
  assert.equal(printable('a\x1b]0;pwned\x07b\x1b[31m\n\r\t\x00\x7f\x9b\u202e\u2028z é 🔑'), 'a\\e]0;pwned\\x07b\\e[31m\\n\\r\\t\\x00\\x7f\\x9b\\u{202e}\\u{2028}z é 🔑');
  fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => {
    const out = printable(s);
    assert.ok(!/[\u0000-\u001f\u007f-\u009f\u2028-\u202e\u2066-\u2069]/.test(out), JSON.stringify(out));
    assert.equal(printable(out), out);
    const json = printableJson(JSON.stringify({ s }));
    assert.ok(!/[\u0000-\u001f\u007f-\u009f\u2028-\u202e\u2066-\u2069]/.test(json), json);
    assert.deepEqual(JSON.parse(json), { s }, 'the same document');
  }), { seed: 12, numRuns: 1000 });
});
