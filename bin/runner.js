#!/usr/bin/env node
// The installed entry point: the bundle that `npm ci` (prepare) builds into dist/.
import '../dist/cli.js';
