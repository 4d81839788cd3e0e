// MongoDB stand-in for tests: CongoDB from @push.rocks/smartmongo, a wire-protocol-compatible
// in-memory server. A real MongoDB cannot be installed on the test machines; the services talk
// to this over the wire with their official drivers, unchanged.
// Known gap: it does not enforce unique indexes (tests cover uniqueness another way).
//
// Usage: node standin.mjs [--port 27017] [--host 127.0.0.1]
// Prints the connection URI on one line once it accepts connections; stops on SIGTERM/SIGINT.
import { congodb } from '@push.rocks/smartmongo';

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const port = Number(arg('port', process.env.PORT || '27017'));
const host = arg('host', process.env.HOST || '127.0.0.1');
const storagePath = arg('storage-path', process.env.STANDIN_STORAGE_PATH || '');
const server = new congodb.CongoServer(
  storagePath ? { port, host, storage: 'file', storagePath } : { port, host, storage: 'memory' },
);
await server.start();
console.log(`mongodb://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`);

let stopping = false;
async function stop(signal) {
  if (stopping) return;
  stopping = true;
  console.error(`mongo-standin: ${signal}, stopping`);
  const timer = setTimeout(() => process.exit(0), 2000);
  timer.unref();
  try {
    await server.stop();
  } finally {
    process.exit(0);
  }
}
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
