/**
 * Text that is safe to put in front of a person. Paths, names and lines come from
 * directories and files anyone can name (a cloned repo, a hostile cwd): raw, an
 * ESC or BEL in one retitles the terminal or repaints it at every prompt. The sinks
 * where messages reach a terminal pass them through here; nothing else escapes.
 */

const NAMED: Record<string, string> = { '\x1b': '\\e', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

// C0, DEL and C1 controls; the line and paragraph separators; the bidi overrides and
// isolates, which can make a name read as another ("Trojan Source").
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

/**
 * `s` with every control character shown as an escape (`\e`, `\n`, `\x07`,
 * `\u{202e}`). Idempotent: what it returns holds no control character. A backslash
 * stays as it is (a path may hold one), so `\e` in a message can also be a literal.
 */
export function printable(s: string): string {
  return s.replace(UNSAFE, (c) => {
    const named = NAMED[c];
    if (named) return named;
    const code = c.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
  });
}

// What JSON.stringify leaves raw of the above (it escapes C0 itself).
const JSON_RAW = /[\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

/** JSON text with those characters as \uXXXX escapes: the same document, safe on a terminal. */
export function printableJson(json: string): string {
  return json.replace(JSON_RAW, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * `text` with paths under the user's home written `~/…`, as people read them (and
 * shells expand them back). Only where HOME starts a path: after the start of the
 * text, a space, a quote, a bracket, `=` or `:`. JSON output keeps absolute paths.
 */
export function tildePaths(text: string, home: string | undefined): string {
  const h = home?.replace(/\/+$/, '');
  if (!h || !h.startsWith('/')) return text;
  const esc = h.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return text.replace(new RegExp(`(^|[\\s'"(\\[=:,])${esc}(?=/|$|[\\s'"),\\]:;])`, 'g'), '$1~');
}

/** What every message to a person goes through: `~/` for home, then escaped. */
export function forHumans(text: string, env: { HOME?: string } = process.env): string {
  return printable(tildePaths(text, env.HOME));
}
