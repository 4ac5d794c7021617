// Runs add / delete / retention / compaction cycles on a file dead-letter log until it is
// killed, journaling each acknowledgement as it happens: "A id" once an add resolved, "d id"
// before a delete is asked for and "D id" once it resolved, "R cutoff" before retention and
// "RD cutoff" once retention resolved. The journal is a file written synchronously: a line is
// in it before the next step starts, whatever kills the process. (Stdout was not: with the
// pipe full, Node queued the lines, and a SIGKILL lost "d" lines whose deletes had reached
// the log.) Each line is also printed, for the test to time its kill.
import { appendFileSync } from 'node:fs';
import { DeadLetterQueue, FileDeadLetterBackend } from '../../lib/index.js';

const [dir, journal] = process.argv.slice(2);
const queue = new DeadLetterQueue({
  name: 'cycles',
  backend: new FileDeadLetterBackend({ filePath: dir }),
  retentionDays: 1.5 / 86_400,
  maxMessageSize: 64 * 1024,
});
const say = (line: string) => {
  appendFileSync(journal, `${line}\n`);
  process.stdout.write(`${line}\n`);
};
let known = (await queue.list({ limit: 100_000 })).items.map((l) => l.id);
for (let round = 0; ; round++) {
  const added = await Promise.all(
    Array.from({ length: 60 }, (_, i) =>
      queue.add({ args: [{ round, i, pad: 'p'.repeat(1500) }], error: new Error('x') }).then((l) => {
        say(`A ${l.id}`);
        return l.id;
      }),
    ),
  );
  known.push(...added);
  const doomed = known.filter((_, i) => i % 5 !== 0);
  known = known.filter((_, i) => i % 5 === 0);
  for (const id of doomed) say(`d ${id}`);
  await Promise.all(doomed.map((id) => queue.delete(id).then((deleted) => deleted && say(`D ${id}`))));
  if (round % 3 === 2) {
    const cutoff = Date.now() - 1.5 * 1000;
    say(`R ${cutoff}`);
    await queue.applyRetention();
    say(`RD ${cutoff}`);
  }
}
