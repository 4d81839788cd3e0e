// MongoDB stand-in for tests: CongoDB from @push.rocks/smartmongo, a wire-protocol-compatible
// in-memory server. A real MongoDB cannot be installed on the test machines; the services talk
// to this over the wire with their official drivers, unchanged.
// Known gap: it does not enforce unique indexes (tests cover uniqueness another way).
//
// Usage: node standin.mjs [--port 27017] [--host 127.0.0.1]
// Prints the connection URI on one line once it accepts connections; stops on SIGTERM/SIGINT.
import { congodb } from '@push.rocks/smartmongo';
import { HelloHandler } from '@push.rocks/smartmongo/dist_ts/congodb/server/handlers/HelloHandler.js';

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

let stopping = false;

// A real mongod keeps one topologyVersion.processId for its life and answers an awaitable hello
// (one carrying the topologyVersion the driver last saw and maxAwaitTimeMS) only when the
// topology changes or maxAwaitTimeMS has passed. CongoDB answers at once, with a new processId
// each time, so the drivers' server monitors (pymongo's streaming protocol, the Node driver's)
// ask again at once, for ever: an idle order service and this stand-in burned about one core
// between them (`docker stats`, 20 s idle: 64 % + 30 % CPU, 4 MB/s of hello traffic). Behave as
// mongod does; a standalone server's topology never changes, so the wait is the whole
// maxAwaitTimeMS (capped, and cut short when the server stops).
const congoHello = HelloHandler.prototype.handle;
let processId = null;
const parked = new Set();
HelloHandler.prototype.handle = async function handle(context) {
  const response = await congoHello.call(this, context);
  processId ??= response.topologyVersion.processId;
  response.topologyVersion.processId = processId;
  const { command } = context;
  const wait = Number(command.maxAwaitTimeMS);
  // As mongod: a client that last saw another process (this one restarted) is answered at once.
  const seen = command.topologyVersion?.processId;
  const current = seen !== undefined && String(seen) === String(processId);
  if (current && Number.isFinite(wait) && wait > 0 && !stopping) {
    await new Promise((resolve) => {
      const timer = setTimeout(() => { parked.delete(resume); resolve(); }, Math.min(wait, 60000));
      const resume = () => { clearTimeout(timer); resolve(); };
      parked.add(resume);
    });
    response.localTime = new Date();
  }
  return response;
};

const port = Number(arg('port', process.env.PORT || '27017'));
const host = arg('host', process.env.HOST || '127.0.0.1');
const storagePath = arg('storage-path', process.env.STANDIN_STORAGE_PATH || '');
const server = new congodb.CongoServer(
  storagePath ? { port, host, storage: 'file', storagePath } : { port, host, storage: 'memory' },
);
await server.start();
console.log(`mongodb://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`);

async function stop(signal) {
  if (stopping) return;
  stopping = true;
  for (const resume of parked) resume();
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
