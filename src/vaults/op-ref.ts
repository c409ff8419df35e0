/**
 * 1Password secret references: op://vault/item/field or op://vault/item/section/field,
 * optionally with a query (?attribute=otp, ?ssh-format=openssh). 1Password documents
 * names of letters, digits, '-', '_', '.' and spaces; anything else is referred to by
 * its ID. We refuse what can never work or could be misread (control characters,
 * tabs/newlines, empty or space-padded segments, template braces) and otherwise let
 * `op` judge, since it runs with argv only and no shell.
 */

const MAX_REF = 1024;

/** Why `ref` is not a usable secret reference, or null when it is one. */
export function refProblem(ref: string | undefined): string | null {
  if (ref === undefined || ref === '') return 'a 1password key needs --ref op://vault/item/field (or op://vault/item/section/field)';
  const show = JSON.stringify(ref.length > 80 ? ref.slice(0, 80) + '…' : ref);
  if (ref.length > MAX_REF) return `1password reference is longer than ${MAX_REF} characters`;
  if (!ref.startsWith('op://')) return `1password reference ${show} must start with op:// (e.g. op://vault/item/field)`;
  if (/[\u0000-\u001f\u007f-\u009f]/.test(ref)) return `1password reference ${show} contains a control character`;
  if (/[^\S ]/.test(ref)) return `1password reference ${show} contains whitespace other than a plain space`;
  if (/[{}]/.test(ref)) return `1password reference ${show} contains a brace ({ or }), which op would read as template syntax`;
  const q = ref.indexOf('?');
  const path = ref.slice('op://'.length, q === -1 ? undefined : q);
  const query = q === -1 ? null : ref.slice(q + 1);
  const segs = path.split('/');
  if (segs.length < 3 || segs.length > 4) {
    return `1password reference ${show} has ${segs.length} path segment${segs.length === 1 ? '' : 's'}; expected op://vault/item/field or op://vault/item/section/field`;
  }
  const names = segs.length === 3 ? ['vault', 'item', 'field'] : ['vault', 'item', 'section', 'field'];
  for (const [i, s] of segs.entries()) {
    if (s === '') return `1password reference ${show} has an empty ${names[i]} name`;
    if (s.trim() !== s) return `1password reference ${show}: the ${names[i]} name starts or ends with a space`;
  }
  if (query !== null && !/^[A-Za-z0-9_-]+=[A-Za-z0-9_-]+(&[A-Za-z0-9_-]+=[A-Za-z0-9_-]+)*$/.test(query)) {
    return `1password reference ${show} has a malformed query (expected e.g. ?attribute=otp)`;
  }
  return null;
}

/**
 * References `op inject` is sure to read inside a template: its unenclosed-reference
 * syntax has no spaces, queries or other punctuation. Others go through `op read`.
 */
export function injectable(ref: string): boolean {
  return /^op:\/\/[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+){2,3}$/.test(ref);
}
