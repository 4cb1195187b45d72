/**
 * Every command of the CLI, in the order `runner --help` lists them. A command module
 * exports one `register(program)` that declares its options and help, and imports its
 * implementation lazily inside the action.
 */
import type { Command } from 'commander';
import { register as list } from './list.js';
import { register as check } from './check.js';
import { register as graph } from './graph.js';
import { register as materialize } from './materialize.js';
import { register as retry } from './retry.js';
import { register as runs } from './runs.js';
import { register as show } from './show.js';
import { register as logs } from './logs.js';
import { register as notify } from './notify.js';
import { register as schedule } from './schedule.js';
import { register as serve } from './serve.js';
import { register as gc } from './gc.js';
import { register as render } from './render.js';
import { register as watcher } from './watcher.js';
import { register as tools } from './tools.js';

export const COMMANDS: Array<(program: Command) => void> = [list, check, graph, materialize, retry, runs, show, logs, notify, schedule, watcher, serve, gc, render, tools];
