/**
 * What `keyrack lock [KEY…]` says, worded once: the CLI prints it, and the daemon
 * sends it with its answer so keyrack-fast can relay it without Node's start.
 */

/** The stderr of `lock`: the names asked for that were not held, and how many were locked. */
export function lockWords(asked: readonly string[], removed: readonly string[]): string {
  const gone = new Set(removed);
  const notHeld = asked.filter((k) => !gone.has(k));
  const head = notHeld.length > 0 ? `keyrack: already locked: ${notHeld.join(', ')}\n` : '';
  return `${head}keyrack: locked ${removed.length} key${removed.length === 1 ? '' : 's'}\n`;
}
