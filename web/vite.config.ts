// Vite builds the page (index.html, the attack worker and the library under src/) into web/dist/, a static
// site with relative paths that works from any static host and offline: the WebAssembly kernels and a
// subset of the MNIST test set are embedded at build time (embed-plugin.ts), nothing is fetched at run time.
import { fileURLToPath } from 'node:url';
import { builtinModules } from 'node:module';
import { defineConfig, type Plugin } from 'vite';
import { embedPlugin } from './embed-plugin.js';

/** One code path: Vite would stub out a Node built-in that a library module imports; refuse to build instead. */
function noNodeModules(): Plugin {
  return {
    name: 'gradleak-no-node-modules',
    enforce: 'pre',
    resolveId(id, importer) {
      if (id.startsWith('node:') || builtinModules.includes(id)) this.error(`${importer} imports ${id}: the page cannot run Node modules`);
      return null;
    },
  };
}

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  plugins: [noNodeModules(), embedPlugin()],
  worker: { format: 'es', plugins: () => [noNodeModules(), embedPlugin()] },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
  },
  server: { host: '127.0.0.1', port: 5173 },
  preview: { host: '127.0.0.1', port: 5173 },
});
