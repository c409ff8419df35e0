/**
 * Quoting shared by bash and zsh: shell-quote, checked by test/quote.test.ts
 * against real bash and zsh (eval inside a function, LANG=C and C.UTF-8) with a
 * corpus of hostile and random values: quotes, backslashes, `$`, backticks, `!`,
 * newlines, CR, ESC and other controls (including bash's internal \x01 and \x7f),
 * any Unicode, empty, 64 KiB. It picks single quotes, double quotes or backslash
 * escapes by content; all of them are exact for eval'd text (history expansion of
 * `!` never applies to eval). NUL cannot be in a shell variable: refused, not cut.
 */
import shellQuote from 'shell-quote';

export function quotePosix(s: string): string {
  if (s.includes('\0')) throw new Error('a shell value cannot contain NUL');
  return shellQuote.quote([s]);
}
