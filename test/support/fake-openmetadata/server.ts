/**
 * A fake OpenMetadata server on 127.0.0.1 (port 0): `GET /api/v1/system/version` answers
 * the configured version; `GET /api/v1/users/loggedInUser` (an authenticated call) answers
 * 200 for the expected bearer JWT and 401 otherwise, as the real server does.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EntityStore } from './entities.js';

/** A request the fake saw (the token itself is never kept). */
export interface SeenRequest {
  method: string;
  path: string;
  /** Whether it carried the expected JWT. */
  authorized: boolean;
}

/** The running fake. */
export interface FakeOpenMetadataServer {
  /** The API URL, as environments write it: `http://127.0.0.1:<port>/api`. */
  url: string;
  requests: SeenRequest[];
  /** The entities, lineage and patches the client sent (see entities.ts). */
  store: EntityStore;
  /** Changes the version answered from now on. */
  setVersion(version: string): void;
  /**
   * What the real Python client (User-Agent `python-requests/...`) is told, apart from the
   * runner's own preflight: another version, or its JWT refused. Undefined: as for everyone.
   */
  setPythonClient(answer: { version?: string; refuseJwt?: boolean } | undefined): void;
  /** Requests for which `fault` holds get HTTP 500 (a server-side failure of that call). */
  setFault(fault: ((method: string, path: string) => boolean) | undefined): void;
  close(): Promise<void>;
}

/** Starts the fake. */
export async function startFakeOpenMetadataServer(opts: { jwt: string; version?: string }): Promise<FakeOpenMetadataServer> {
  let version = opts.version ?? '1.10.4';
  let python: { version?: string; refuseJwt?: boolean } | undefined;
  let fault: ((method: string, path: string) => boolean) | undefined;
  const isPython = (req: IncomingMessage) => /python-requests/i.test(String(req.headers['user-agent'] ?? ''));
  const requests: SeenRequest[] = [];
  const authorized = (req: IncomingMessage) => req.headers.authorization === `Bearer ${opts.jwt}`;
  const store = new EntityStore();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => answer(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  const answer = (req: IncomingMessage, res: import('node:http').ServerResponse, text: string) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const py = isPython(req) ? python : undefined;
    const ok = authorized(req) && !py?.refuseJwt;
    requests.push({ method: req.method ?? 'GET', path, authorized: ok });
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'GET' && path === '/api/v1/system/version') return send(200, { version: py?.version ?? version, revision: 'fake', timestamp: 0 });
    if (!ok) return send(401, { code: 401, message: 'Not Authorized! Token verification failed' });
    if (req.method === 'GET' && path === '/api/v1/users/loggedInUser') return send(200, { name: 'ingestion-bot', isBot: true });
    // The real client fetches the connector's test-connection steps before connecting to the
    // source (metadata/ingestion/connections/test_connections.py, `test_connection_steps`);
    // the server ships one per connector: `CheckAccess` (mandatory, short-circuit) first.
    const tcd = /^\/api\/v1\/services\/testConnectionDefinitions\/name\/([A-Za-z0-9_]+)\.testConnectionDefinition$/.exec(path);
    if (req.method === 'GET' && tcd) {
      const name = `${tcd[1]}.testConnectionDefinition`;
      return send(200, {
        id: '3f6a2f43-5a6e-4a8e-9d2e-0c1f5b7e9a01',
        name,
        fullyQualifiedName: name,
        steps: [{ name: 'CheckAccess', description: 'Validate that we can properly reach the database and authenticate with the given credentials.', errorMessage: `Failed to connect to ${tcd[1]!.toLowerCase()}, please validate the credentials`, mandatory: true, shortCircuit: true }],
      });
    }
    if (fault?.(req.method ?? 'GET', path)) return send(500, { code: 500, message: `injected failure of ${req.method} ${path}` });
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      return send(400, { code: 400, message: 'the body is not JSON' });
    }
    const a = path.startsWith('/api/v1/') ? store.handle(req.method ?? 'GET', path.slice('/api/v1/'.length), body, new URL(req.url ?? '/', 'http://x').searchParams) : undefined;
    if (a) return send(a.status, a.body);
    return send(404, { code: 404, message: `no route ${path}` });
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api`,
    requests,
    store,
    setVersion: (v) => {
      version = v;
    },
    setPythonClient: (a) => {
      python = a;
    },
    setFault: (f) => {
      fault = f;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
