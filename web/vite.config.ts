// Vite builds the page (index.html, the attack worker and the library under src/) into web/dist/, a static
// site with relative paths that works from any static host and offline: the WebAssembly kernels and a
// subset of the MNIST test set are embedded at build time (embed-plugin.ts), nothing is fetched at run time.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { embedPlugin } from './embed-plugin.js';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  plugins: [embedPlugin()],
  worker: { format: 'es', plugins: () => [embedPlugin()] },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    rollupOptions: {
      // one code path: a library module that needs Node would be stubbed out by Vite; refuse to build instead
      onwarn(warning, warn) {
        if (/externalized for browser compatibility/.test(warning.message)) throw new Error(warning.message);
        warn(warning);
      },
    },
  },
  server: { host: '127.0.0.1', port: 5173 },
  preview: { host: '127.0.0.1', port: 5173 },
});
