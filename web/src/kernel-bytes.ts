// The bytes of the WebAssembly kernels in the page (`#kernel-bytes` in package.json "imports"; Node's is
// src/engine/kernel-bytes.ts): embedded into the bundle at build time by web/embed-plugin.ts.
import kernels from 'virtual:gradleak/kernels';
import { fromBase64 } from './base64.js';

export function kernelBytes(): Uint8Array<ArrayBuffer> {
  return fromBase64(kernels);
}
