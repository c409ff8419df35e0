/** One line of `keyrack doctor`: its verdict, what was found, and how to fix it (shared by its checks). */
export type Level = 'ok' | 'warn' | 'FAIL';
export interface Finding { level: Level; what: string; fix?: string }
