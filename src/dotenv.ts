/**
 * A strict dotenv parser for `keyrack import`. Syntax:
 *   KEY=value                unquoted: surrounding blanks and a ` #comment` dropped
 *   export KEY=value         the `export ` prefix is ignored
 *   KEY='literal value'      nothing inside is special; may span lines
 *   KEY="a\nb"               \n \t \r \" \\ are escapes (others stay as written); may span lines
 *   # comment, blank lines
 * No `$VAR` expansion: every value is taken as written. A CRLF file is read as LF.
 * Anything else is an error naming file:line and what is wrong — never quoting
 * the line, since a malformed line may well be (part of) a secret.
 */
import { UserError } from './errors.js';
import { decodeStrict, firstInvalidUtf8 } from './utf8.js';
import { keyNameProblem, KEY_NAME_MAX } from './env/names.js';

export interface DotenvEntry {
  name: string;
  value: string;
  line: number;
}

function lineAt(buf: Uint8Array, offset: number): number {
  let n = 1;
  for (let i = 0; i < offset && i < buf.length; i++) if (buf[i] === 0x0a) n++;
  return n;
}

/** Decodes the file as UTF-8, refusing NUL and invalid bytes by line. */
function decode(buf: Uint8Array, file: string): string {
  const fail = (offset: number, why: string) => new UserError(`${file}:${lineAt(buf, offset)}: ${why} — nothing imported`);
  const nul = buf.indexOf(0);
  if (nul !== -1) throw fail(nul, 'the line contains a NUL byte; keyrack stores only text without NUL');
  let text = decodeStrict(buf);
  if (text === null) {
    const at = firstInvalidUtf8(buf);
    throw fail(at, at === buf.length ? 'the file ends inside a UTF-8 character; keyrack stores only text' : 'the line is not valid UTF-8; keyrack stores only text');
  }
  if (text.startsWith('\uFEFF')) text = text.slice(1); // an editor's byte-order mark, not part of a key
  return text.replace(/\r\n/g, '\n');
}

const BLANK = /[ \t]/;
const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\' };

/** Parses the whole file; throws a UserError at the first bad line. */
export function parseDotenv(buf: Uint8Array, file: string): DotenvEntry[] {
  const text = decode(buf, file);
  const out: DotenvEntry[] = [];
  const seen = new Map<string, number>();
  let i = 0;
  let line = 1;
  const fail = (at: number, why: string): UserError => new UserError(`${file}:${at}: ${why} — nothing imported`);
  const skipBlanks = () => {
    while (i < text.length && BLANK.test(text[i]!)) i++;
  };
  const atLineEnd = () => i >= text.length || text[i] === '\n';
  /** After a value: only blanks and a comment may follow on the line. */
  const endLine = (at: number, what: string) => {
    skipBlanks();
    if (text[i] === '#') while (!atLineEnd()) i++;
    if (!atLineEnd()) throw fail(at, `unexpected text after the ${what}`);
  };

  while (i < text.length) {
    const start = line;
    skipBlanks();
    if (text[i] === '#') while (!atLineEnd()) i++;
    if (atLineEnd()) {
      i++;
      line++;
      continue;
    }
    // `export NAME=…`; a key named "export" (`export=…`) stays a key.
    const exp = /^export[ \t]+(?=[^ \t=\n])/.exec(text.slice(i, i + 64));
    if (exp) i += exp[0].length;
    const nameStart = i;
    while (i < text.length && !/[ \t=\n]/.test(text[i]!)) i++;
    const name = text.slice(nameStart, i);
    skipBlanks();
    if (name.length === 0 || text[i] !== '=') throw fail(start, 'expected KEY=value');
    // The "name" of a malformed line may be a piece of a secret: describe the rule, never echo it.
    if (keyNameProblem(name) !== null) {
      throw fail(start, `invalid key name (a letter or _ first, then letters, digits, _ . -; at most ${KEY_NAME_MAX} characters)`);
    }
    if (name === '__proto__') throw fail(start, '__proto__ is reserved; choose another key name');
    const first = seen.get(name);
    if (first !== undefined) throw fail(start, `${name} is set again (first on line ${first}); keep one`);
    i++; // '='
    const afterEq = i;
    skipBlanks();

    let value: string;
    const q = text[i];
    if (q === "'" || q === '"') {
      i++;
      let v = '';
      for (;;) {
        if (i >= text.length) throw fail(start, `the ${q === "'" ? 'single' : 'double'}-quoted value of ${name} is never closed`);
        const c = text[i]!;
        if (c === q) break;
        if (c === '\n') line++;
        if (q === '"' && c === '\\' && i + 1 < text.length) {
          const next = text[i + 1]!;
          v += ESCAPES[next] ?? `\\${next}`;
          if (next === '\n') line++;
          i += 2;
          continue;
        }
        v += c;
        i++;
      }
      i++; // closing quote
      endLine(line, `closing quote of ${name}`);
      value = v;
    } else {
      // From just after '=', so `KEY= #note` is an empty value with a comment, as in a shell.
      while (!atLineEnd()) i++;
      let v = text.slice(afterEq, i);
      const comment = /[ \t]#/.exec(v);
      if (comment) v = v.slice(0, comment.index);
      value = v.replace(/^[ \t]+|[ \t]+$/g, '');
    }
    if (value.length === 0) throw fail(start, `${name} has an empty value (keyrack stores no empty secrets); give it a value or remove the line`);
    seen.set(name, start);
    out.push({ name, value, line: start });
    i++; // the '\n'
    line++;
  }
  return out;
}
