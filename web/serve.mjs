// npm run web [-- --port N] [-- --host H]: builds the page (Vite) and serves web/dist/ on http://127.0.0.1:5173.
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { build, preview } from 'vite';

const { values } = parseArgs({ options: { port: { type: 'string', default: '5173' }, host: { type: 'string', default: '127.0.0.1' } } });
const port = Number(values.port);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error(`gradleak web: --port must be an integer 1..65535, got ${values.port}`);
  process.exit(2);
}
const configFile = fileURLToPath(new URL('./vite.config.ts', import.meta.url));
await build({ configFile, logLevel: 'warn' });
const server = await preview({ configFile, preview: { port, host: values.host, strictPort: true } });
server.printUrls();
