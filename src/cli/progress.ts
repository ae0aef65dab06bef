// A progress bar on an interactive terminal (stderr), nothing otherwise.
import cliProgress from 'cli-progress';

export interface Progress {
  update(value: number, info?: Record<string, string>): void;
  stop(): void;
}

export function progressBar(total: number, label: string): Progress {
  if (!process.stderr.isTTY) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    { format: `${label} [{bar}] {value}/{total} | {info}`, stream: process.stderr, hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { info: '' });
  return {
    update: (value, info = {}) => bar.update(value, { info: Object.entries(info).map(([k, v]) => `${k} ${v}`).join(' ') }),
    stop: () => bar.stop(),
  };
}
