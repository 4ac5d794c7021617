// Opens a file dead-letter log, adds a letter, says how many it holds and its own pid,
// then waits to be killed (run as pid 1 of a new pid namespace by the lock test).
import { DeadLetterQueue, FileDeadLetterBackend } from '../../lib/index.js';

const [dir] = process.argv.slice(2);
const queue = new DeadLetterQueue({ name: 'pid1', backend: new FileDeadLetterBackend({ filePath: dir }) });
await queue.add({ args: [process.pid], error: new Error('failed') });
process.stdout.write(`ready pid=${process.pid} size=${await queue.size()}\n`);
setInterval(() => undefined, 1000);
