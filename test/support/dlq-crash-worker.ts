// Adds 10,000 dead letters at once to a file backend and prints each id as its add
// resolves (stdout to a pipe is synchronous on Linux: a printed id was durable).
import { DeadLetterQueue, FileDeadLetterBackend } from '../../lib/index.js';

const [dir] = process.argv.slice(2);
const queue = new DeadLetterQueue({ name: 'crash', backend: new FileDeadLetterBackend({ filePath: dir }) });
await Promise.all(
  Array.from({ length: 10_000 }, (_, i) =>
    queue.add({ args: [{ order: i, note: 'x'.repeat(200) }], error: new Error('failed') }).then((letter) => {
      process.stdout.write(`${letter.id}\n`);
    }),
  ),
);
process.stdout.write('done\n');
