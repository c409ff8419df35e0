/**
 * "Did you mean": the closest known word to a typo (a command, an option, a key
 * name in a manifest), by edit distance with transpositions, so `unlcok` finds
 * `unlock` and `GITHUB_TOKN` finds `GITHUB_TOKEN`.
 */

/** Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours. */
export function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The candidate closest to `word`, when it is close enough to be a typo of it:
 * at most 2 edits, and about a third of the word (so short words need a near miss;
 * a name of two letters gets none). Case is ignored.
 */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  // Two letters are too few to tell a typo from another name (KA, KB); an option's are its own.
  if (!word.startsWith('-') && word.length <= 2) return undefined;
  const limit = Math.min(2, Math.max(1, Math.floor(word.length / 3)));
  let best: string | undefined;
  let bestD = limit + 1;
  const head = (s: string) => s.replace(/^-+/, '').charAt(0).toLowerCase();
  for (const c of candidates) {
    if (c === word) continue;
    // A tie goes to a word that starts alike (`--tll`: `--ttl` rather than `--all`).
    const dd = distance(word.toLowerCase(), c.toLowerCase()) + (head(c) === head(word) ? 0 : 0.5);
    if (dd < bestD) [best, bestD] = [c, dd];
  }
  return best;
}
