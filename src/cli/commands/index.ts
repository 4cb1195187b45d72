/**
 * Every command of the CLI, in the order `runner --help` lists them. A command module
 * exports one `register(program)` that declares its options and help, and imports its
 * implementation lazily inside the action.
 */
import type { Command } from 'commander';
import { register as list } from './list.js';
import { register as check } from './check.js';
import { register as graph } from './graph.js';

export const COMMANDS: Array<(program: Command) => void> = [list, check, graph];
