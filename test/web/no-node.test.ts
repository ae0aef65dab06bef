// One code path: the library modules the page runs (everything reachable from web/src/main.ts and the attack
// worker, with package.json "imports" resolved for the browser) import no Node built-in and no package but fflate and
// zod/mini (the protocols' parameter schemas; zod's tree-shakable form, plain JavaScript).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const PACKAGES_ALLOWED = ['fflate', 'zod/mini'];
const IMPORTS: Record<string, { browser: string }> = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).imports;

/** Specifiers of the static and dynamic imports and re-exports of a TypeScript file (type-only imports are erased). */
function specifiers(source: string): string[] {
  const code = source.replace(/^\s*\/\/.*$/gm, '');
  const out: string[] = [];
  for (const m of code.matchAll(/\b(?:import|export)\s+(type\s+)?(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/g)) if (!m[1]) out.push(m[2]!);
  for (const m of code.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push(m[1]!);
  return out;
}

function pageGraph(): { files: Set<string>; bad: string[] } {
  const files = new Set<string>(), bad: string[] = [];
  const queue = ['web/src/main.ts', 'web/src/attack-worker.ts'].map((f) => join(ROOT, f));
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    for (const spec of specifiers(readFileSync(file, 'utf8'))) {
      let target: string;
      if (spec.startsWith('.')) target = resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
      else if (spec.startsWith('#') && IMPORTS[spec]) target = join(ROOT, IMPORTS[spec].browser);
      else {
        if (!PACKAGES_ALLOWED.includes(spec) && !spec.startsWith('virtual:gradleak/')) bad.push(`${relative(ROOT, file)} imports ${spec}`);
        continue;
      }
      assert.ok(existsSync(target), `${relative(ROOT, file)}: ${spec} not found`);
      queue.push(target);
    }
  }
  return { files, bad };
}

test('the page\'s modules import no Node built-in (node:fs, ...) and no package but fflate and zod/mini', () => {
  const { files, bad } = pageGraph();
  const reached = [...files].map((f) => relative(ROOT, f));
  // the walk does reach the library: the attack, the engine and its WebAssembly kernels, the report files
  for (const f of ['src/run/image-run.ts', 'src/engine/wasm-kernels.ts', 'web/src/kernel-bytes.ts', 'src/models/load.ts', 'src/report/png-encode.ts']) {
    assert.ok(reached.includes(f), `${f} not reached from the page`);
  }
  assert.ok(!reached.includes('src/engine/kernel-bytes.ts') && !reached.includes('src/models/model-files.ts'), 'the Node side of #kernel-bytes / #model-files is reached');
  assert.deepEqual(bad, []);
});

test('the import scan sees what it must refuse', () => {
  assert.deepEqual(specifiers(`import { readFileSync } from 'node:fs';\nimport type { X } from 'node:path';\nexport { a } from './a.js';\nconst m = await import('sharp');`), ['node:fs', './a.js', 'sharp']);
});
