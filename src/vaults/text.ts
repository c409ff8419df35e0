/**
 * Small checks the reference-keeping vaults share: how a reference is quoted in
 * a message, which characters no reference may hold, and turning a tool's
 * output bytes into a keyrack value (strict UTF-8, no NUL, never empty).
 */
import { decodeStrict } from '../utf8.js';

/** A reference or name for a message: JSON-quoted (so escapes show), cut at 80. */
export function shown(s: string): string {
  return JSON.stringify(s.length > 80 ? s.slice(0, 80) + '…' : s);
}

/** C0/C1 control characters and DEL: never part of a usable reference. */
export function hasControl(s: string): boolean {
   
  return /[\u0000-\u001f\u007f-\u009f]/.test(s);
}

/**
 * A value from a tool's stdout, or why it is refused. The reason never quotes
 * the bytes: they are a secret. `stripNewline` drops exactly one trailing "\n".
 */
export function valueOf(out: Buffer, stripNewline: boolean): { value: string } | { refused: string } {
  const text = decodeStrict(out);
  if (text === null) return { refused: 'the value is not valid UTF-8; keyrack keys must be text' };
  if (text.includes('\0')) return { refused: 'the value contains a NUL byte; keyrack keys must be text without NUL' };
  const value = stripNewline && text.endsWith('\n') ? text.slice(0, -1) : text;
  if (value === '') return { refused: 'the value is empty' };
  return { value };
}

/** The last few non-empty lines of a tool's stderr, control characters blanked, for a message. */
export function stderrTail(stderr: string, lines = 3): string {
  const kept = stderr.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '').slice(-lines)
     
    .map((l) => l.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' '))
    .map((l) => (l.length > 300 ? l.slice(0, 300) + '…' : l));
  return kept.join(' / ');
}
