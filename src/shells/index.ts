/** The shells `hook` and `export` speak, by name. */
import { bash } from './bash.js';
import { elvish } from './elvish.js';
import { fish } from './fish.js';
import { json } from './json.js';
import type { HookShell, Shell } from './shell.js';
import { tcsh } from './tcsh.js';
import { zsh } from './zsh.js';

export const HOOK_SHELLS: Record<string, HookShell> = { bash, zsh, fish, tcsh, elvish };
export const EXPORT_SHELLS: Record<string, Shell> = { bash, zsh, fish, tcsh, elvish, json };
