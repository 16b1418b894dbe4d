/** `node dist/bench/summariseProfile.js <file.cpuprofile>`: the tables `--profile` prints, for any saved profile. */
import { sharesTable, summariseCpuProfile } from './cpuProfile';

const file = process.argv[2];
if (file === undefined) {
  process.stderr.write('usage: node dist/bench/summariseProfile.js <file.cpuprofile>\n');
  process.exit(2);
}
const summary = summariseCpuProfile(file);
process.stdout.write(
  [
    `${summary.totalMs} ms on CPU`,
    sharesTable('caused by (Node internals and native code folded into their caller)', summary.owners.slice(0, 20)),
    sharesTable('layer (self time)', summary.layers.slice(0, 20)),
    sharesTable('frame', summary.frames),
  ].join('\n\n') + '\n',
);
