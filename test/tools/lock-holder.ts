/**
 * A process that takes the tools lock, notes `start <pid>`, holds the lock a while, notes
 * `end <pid>` and lets go (for lock.test.ts). Arguments: lock file, log file, hold ms.
 */
import { appendFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { acquireLock } from '../../src/tools/lock.js';

const [file, log, hold] = process.argv.slice(2);
const lock = await acquireLock(file!, `test holder ${process.pid}`);
appendFileSync(log!, `start ${process.pid}\n`);
await sleep(Number(hold));
appendFileSync(log!, `end ${process.pid}\n`);
lock.release();
