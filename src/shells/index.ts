/** The shells `hook` and `export` speak, by name. */
import { bash } from './bash.js';
import { fish } from './fish.js';
import { json } from './json.js';
import type { HookShell, Shell } from './shell.js';
import { zsh } from './zsh.js';

export const HOOK_SHELLS: Record<string, HookShell> = { bash, zsh, fish };
export const EXPORT_SHELLS: Record<string, Shell> = { bash, zsh, fish, json };
