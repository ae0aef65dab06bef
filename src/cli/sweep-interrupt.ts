// What an interrupted sweep says on stderr: how many of its jobs results.jsonl holds, and the command that resumes
// it (the same command again: it runs the missing jobs only).
import { join } from 'node:path';
import { RESULTS_FILE } from '../sweep/run-sweep.js';

/** Said at the first Ctrl-C / SIGTERM. */
export const STOPPING = 'gradleak: interrupted: no new job starts; the running ones finish, then the report is written (Ctrl-C again to quit at once)';

/** The lines of a sweep stopped with `saved` of its `total` jobs in results.jsonl; `report` when the report shows them. */
export function interruptedLines(out: string, saved: number, total: number, report?: string): string[] {
  return [
    `gradleak: interrupted: ${saved} of ${total} jobs saved in ${join(out, RESULTS_FILE)}${report ? `; ${report} and summary.csv show them` : ''}`,
    `gradleak: to resume, run the same command again: ${resumeCommand()}`,
  ];
}

/** This process's command line as a shell command, its arguments quoted where the shell needs it. */
function resumeCommand(args = process.argv.slice(2)): string {
  return ['gradleak', ...args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`))].join(' ');
}
