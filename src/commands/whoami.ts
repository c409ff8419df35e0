/**
 * `keyrack whoami`: your age recipient (the public half of your os.secure
 * identity), on one line of stdout — what you send a teammate so they can add you
 * to a project's team file (`keyrack team add LABEL RECIPIENT`).
 */
import { readRecipient } from '../vaults/secure.js';

export async function run(): Promise<number | void> {
  process.stdout.write(`${readRecipient(process.env)}\n`);
}
