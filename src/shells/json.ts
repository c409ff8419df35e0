/**
 * `keyrack export json`, for editors and other tools: one object per call,
 *   {"set":{NAME:value},"unset":[NAME],"save":[NAME],"forget":[NAME],"state":"…"}
 * Apply in this order: for each name in "save", remember the current value (if
 * any); export everything in "set"; for each name in "unset", restore the value
 * remembered for it, or remove it; drop what is remembered for names in "forget";
 * keep "state" and pass it back as KEYRACK_STATE next time.
 */
import type { Changes, Shell } from './shell.js';

export const json: Shell = {
  name: 'json',
  quote: (s) => JSON.stringify(s),
  render: (c: Changes) => JSON.stringify({
    set: Object.fromEntries(c.set),
    unset: c.unset,
    save: c.save,
    forget: c.forget,
    state: c.state,
  }) + '\n',
};
