/**
 * A child process for last-resort.test.ts: serve's router and HTTP server with routes
 * whose errors escape every handler (a throw in a timer, a rejection nobody awaits), and
 * the last-resort guard installed unless NO_GUARD=1. Prints `port N` once listening.
 */
import { Router, json, listen } from '../../src/serve/http.js';
import { installLastResort } from '../../src/serve/last-resort.js';
import { createLogger } from '../../src/serve/log.js';

const log = createLogger({ format: 'json' });
if (process.env.NO_GUARD !== '1') installLastResort(log);
const router = new Router();
router.get('/ok', () => json(200, { ok: true }));
router.get('/boom-timer', () => {
  setTimeout(() => {
    throw new Error('thrown in a timer of a request');
  }, 1);
  return new Promise(() => undefined); // never answers: the guard closes the connection
});
router.get('/boom-rejection', () => {
  void Promise.reject(new Error('a rejection nobody awaited'));
  return json(200, { answered: true });
});
const server = await listen(router, '127.0.0.1', 0);
console.log(`port ${server.port}`);
