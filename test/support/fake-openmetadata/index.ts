/**
 * Test doubles of OpenMetadata: the fake `metadata` CLI (an executable in this directory,
 * put it first on PATH) and the fake server. See fake-cli.mjs for the CLI's switches.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export { startFakeOpenMetadataServer, type FakeOpenMetadataServer, type SeenRequest } from './server.js';

/** The directory holding the fake `metadata` executable. */
export const FAKE_CLI_DIR = path.dirname(fileURLToPath(import.meta.url));

/** The fake executable's path. */
export const FAKE_CLI = path.join(FAKE_CLI_DIR, 'metadata');

/** A JWT-shaped token for tests (three base64url segments). */
export function fakeJwt(seed = 'test'): string {
  const b64 = (s: string) => Buffer.from(s).toString('base64url');
  return `${b64('{"alg":"RS256","typ":"JWT"}')}.${b64(`{"sub":"ingestion-bot","iss":"open-metadata.org","seed":"${seed}-${Date.now()}"}`)}.${b64(`signature-${seed}-${Math.random()}`)}`;
}

/** PATH with the fake CLI first. */
export function pathWithFakeCli(base = process.env.PATH ?? ''): string {
  return `${FAKE_CLI_DIR}${path.delimiter}${base}`;
}
