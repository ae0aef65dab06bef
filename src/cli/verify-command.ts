// gradleak verify-fixture: recompute golden fixture files and report the largest relative errors.
import { Command } from 'commander';
import { ReferenceKernels } from '../engine/kernels.js';
import { WasmKernels } from '../engine/wasm-kernels.js';
import { FIXTURE_TOLERANCE, readFixture, verifyFixture, type FixtureReport } from '../verify/fixture.js';
import { oneOf } from './parse.js';
import { BACKENDS, DEFAULT_BACKEND } from '../engine/backend.js';

export function verifyCommand(): Command {
  return new Command('verify-fixture')
    .description(`recompute PyTorch golden fixtures in float64; exit 1 if any relative error exceeds ${FIXTURE_TOLERANCE}`)
    .argument('<files...>', 'fixture JSON files (format: test/data/fixtures/FORMAT.md)')
    .option('--json', 'one JSON object per file')
    .option('--backend <name>', `kernels: ${BACKENDS.join(' or ')}`, oneOf(BACKENDS), DEFAULT_BACKEND)
    .action((files: string[], o) => {
      const fixtures = files.map((f) => ({ file: f, fixture: readFixture(f) })); // unreadable input: exit 2 before any output
      let failed = false;
      for (const { file, fixture } of fixtures) {
        const kernels = o.backend === 'ts' ? new ReferenceKernels('float64') : new WasmKernels('float64', 8_000_000);
        const r = verifyFixture(file, kernels, fixture);
        failed ||= !r.ok;
        console.log(o.json ? JSON.stringify({ file: r.file, case: r.case, max_rel_err: r.max_rel_err, ok: r.ok }) : formatReport(r));
      }
      if (failed) process.exitCode = 1;
    });
}

function formatReport(r: FixtureReport): string {
  // group per quantity: the worst error over its per-parameter entries
  const groups = new Map<string, number>();
  for (const [k, v] of Object.entries(r.max_rel_err)) {
    const parts = k.split('.');
    const key = parts.length >= 3 ? parts[0] : k; // per-parameter entries, e.g. grad_true.conv1.weight, grad_true.layer1.0.bn1.bias
    groups.set(key, Math.max(groups.get(key) ?? 0, v));
  }
  const parts = [...groups].map(([k, v]) => `${k} ${v.toExponential(1)}`).join(', ');
  const skipped = r.skipped.length ? ` (not supported yet: ${r.skipped.join(', ')})` : '';
  return `${r.ok ? 'ok  ' : 'FAIL'} ${r.file} [${r.case}]: ${parts}${skipped}`;
}
