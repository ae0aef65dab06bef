// The bytes of the WebAssembly kernels in Node: build/kernels.wasm, read from disk (`#kernel-bytes` in
// package.json "imports"; the browser's counterpart is web/src/kernel-bytes.ts).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** dist/src/engine/kernel-bytes.js -> build/kernels.wasm */
const WASM_URL = new URL('../../../build/kernels.wasm', import.meta.url);

export function kernelBytes(): Uint8Array<ArrayBuffer> {
  try {
    return new Uint8Array(readFileSync(WASM_URL));
  } catch (e) {
    throw new Error(`WasmKernels: cannot read ${fileURLToPath(WASM_URL)} (${(e as Error).message}); run \`npm run build:wasm\``);
  }
}
