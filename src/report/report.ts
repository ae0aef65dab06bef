// The one report generator of sweeps and `gradleak reproduce`: report.html from a page (title, heading,
// intro) and plug-ins, each writing its own files into the run directory (figures, tables) and giving
// its block of the page. Blocks are joined line by line, in the plug-ins' order.
import { join } from 'node:path';
import { writeText } from '../util/files.js';

export interface ReportPlugin {
  /** Writes this part's files into `dir`; returns its block of report.html ('' an empty line, null none). */
  write(dir: string): string | null | Promise<string | null>;
}

export interface ReportPage {
  title: string;
  heading: string;
  intro: string;
}

/** A part that is HTML only. */
export const htmlBlock = (html: string): ReportPlugin => ({ write: () => html });

/** The findings, one paragraph each, written from the measured numbers. */
export const findingsBlock = (paragraphs: readonly string[]): ReportPlugin => htmlBlock(`<h2>Findings</h2>\n${paragraphs.map((p) => `<p>${p}</p>`).join('\n')}`);

const STYLE = 'body{font-family:sans-serif;max-width:1280px;margin:2em auto;line-height:1.45}table{border-collapse:collapse}th,td{padding:3px 10px;text-align:left;border-bottom:1px solid #ddd}img{max-width:100%}';

/** Runs the plug-ins in order, then writes DIR/report.html; returns its path. */
export async function writeReport(dir: string, page: ReportPage, plugins: readonly ReportPlugin[]): Promise<string> {
  const blocks = [page.intro];
  for (const p of plugins) {
    const block = await p.write(dir);
    if (block !== null) blocks.push(block);
  }
  const html = join(dir, 'report.html');
  writeText(html, `<!doctype html>
<html><head><meta charset="utf-8"><title>${page.title}</title>
<style>${STYLE}</style>
</head><body>
<h1>${page.heading}</h1>
${blocks.join('\n')}
</body></html>
`);
  return html;
}
