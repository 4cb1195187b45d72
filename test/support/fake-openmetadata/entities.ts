/**
 * The entity store of the OpenMetadata server double: the REST calls the real Python client
 * makes (metadata/ingestion/ometa/ometa_api.py and its mixins, 1.7 and 2.0): `PUT
 * /api/v1/<collection>` creates or updates an entity from its create request (references
 * given as FQN strings become entity references), `GET .../name/<fqn>` and `GET .../<id>`
 * read it back, `PATCH .../<id>` applies a JSON Patch, `PUT .../tables/<id>/dataModel` sets a
 * table's data model, `PUT /api/v1/lineage` records an edge, list calls answer a page, and
 * search answers no hits. Everything it was sent is kept, for tests to assert on.
 */
import { randomUUID } from 'node:crypto';

/** One stored entity. */
export type Entity = Record<string, unknown> & { id: string; name: string; fullyQualifiedName: string };

/** A lineage edge as sent. */
export interface LineageEdge {
  from: { id: string; type: string };
  to: { id: string; type: string };
  details?: unknown;
}

/** An answer: status and body. */
export interface Answer {
  status: number;
  body: unknown;
}

// Fields of create requests that name another entity by its FQN.
const REFERENCES: Record<string, string> = { service: 'Service', database: 'database', databaseSchema: 'databaseSchema', classification: 'classification', basicEntityReference: 'table', executableEntityReference: 'table', testDefinition: 'testDefinition', testSuite: 'testSuite' };
// Search indexes (`table_search_index`, ...) and the collections they cover.
const INDEXES: Record<string, string> = { table: 'tables', database_schema: 'databaseSchemas', database: 'databases', dataAsset: 'tables' };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The store. */
export class EntityStore {
  /** By collection (`tables`, `services/databaseServices`, ...), then by FQN. */
  readonly entities = new Map<string, Map<string, Entity>>();
  readonly lineage: LineageEdge[] = [];
  /** Every PATCH applied: collection, FQN, operations. */
  readonly patches: Array<{ collection: string; fqn: string; ops: unknown[] }> = [];

  /** Adds an entity as if it had been ingested before (e.g. tables of a database service). */
  seed(collection: string, entity: Omit<Entity, 'id'> & { id?: string }): Entity {
    const e = { version: 0.1, deleted: false, ...entity, id: entity.id ?? randomUUID() } as unknown as Entity;
    this.col(collection).set(e.fullyQualifiedName, e);
    return e;
  }

  /** The entity of `collection` with that FQN. */
  get(collection: string, fqn: string): Entity | undefined {
    return this.entities.get(collection)?.get(fqn);
  }

  /** Answers an API call (path without `/api/v1/`), or undefined when it is not the store's. */
  handle(method: string, path: string, body: unknown, query: URLSearchParams = new URLSearchParams()): Answer | undefined {
    // es_mixin.py: `/search/fieldQuery?fieldName=fullyQualifiedName&fieldValue=<fqn>&index=<x>_search_index`;
    // the client then reads each hit's entity by its FQN.
    if (method === 'GET' && path === 'search/fieldQuery') {
      const field = query.get('fieldName') ?? 'fullyQualifiedName';
      const value = query.get('fieldValue') ?? '';
      const collection = INDEXES[(query.get('index') ?? '').replace(/_search_index$/, '')];
      const re = new RegExp(`^${value.replace(/\\(.)/g, '$1').split('*').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
      const pool = collection ? [...(this.entities.get(collection)?.values() ?? [])] : [];
      const hits = pool.filter((e) => re.test(String(e[field] ?? ''))).map((e) => ({ _index: query.get('index'), _id: e.id, _source: { id: e.id, name: e.name, fullyQualifiedName: e.fullyQualifiedName } }));
      return { status: 200, body: { hits: { total: { value: hits.length, relation: 'eq' }, hits } } };
    }
    if (method === 'PUT' && path === 'lineage') {
      const edge = (body as { edge?: { fromEntity: { id: string; type: string }; toEntity: { id: string; type: string }; lineageDetails?: unknown } }).edge;
      if (!edge) return { status: 400, body: { code: 400, message: 'edge is required' } };
      this.lineage.push({ from: edge.fromEntity, to: edge.toEntity, details: edge.lineageDetails });
      return { status: 200, body: {} };
    }
    // lineage_mixin.py reads an entity's lineage before adding to it, an edge by its ends, and
    // patches an edge's details.
    const lin = /^lineage\/([A-Za-z]+)\/([0-9a-f-]{36})$/.exec(path);
    if (method === 'GET' && lin) {
      const id = lin[2]!;
      const edges = this.lineage.filter((e) => e.from.id === id || e.to.id === id);
      const edge = (e: LineageEdge) => ({ fromEntity: e.from.id, toEntity: e.to.id, ...(e.details ? { lineageDetails: e.details } : {}) });
      const others = [...new Set(edges.map((e) => (e.from.id === id ? e.to.id : e.from.id)))].map((x) => this.ref(x)).filter(Boolean);
      return { status: 200, body: { entity: this.ref(id) ?? { id, type: lin[1] }, nodes: others, upstreamEdges: edges.filter((e) => e.to.id === id).map(edge), downstreamEdges: edges.filter((e) => e.from.id === id).map(edge) } };
    }
    const linEdge = /^lineage\/getLineageEdge\/([0-9a-f-]{36})\/([0-9a-f-]{36})$/.exec(path);
    if (method === 'GET' && linEdge) {
      const e = this.lineage.find((x) => x.from.id === linEdge[1] && x.to.id === linEdge[2]);
      return e ? { status: 200, body: { edge: { fromEntity: this.ref(e.from.id) ?? e.from, toEntity: this.ref(e.to.id) ?? e.to, ...((e.details as object) ?? {}) } } } : { status: 404, body: { code: 404, message: 'edge not found' } };
    }
    const linPatch = /^lineage\/[A-Za-z]+\/([0-9a-f-]{36})\/[A-Za-z]+\/([0-9a-f-]{36})$/.exec(path);
    if (method === 'PATCH' && linPatch) {
      const e = this.lineage.find((x) => x.from.id === linPatch[1] && x.to.id === linPatch[2]);
      if (!e) return { status: 404, body: { code: 404, message: 'edge not found' } };
      e.details = (e.details as Record<string, unknown>) ?? {};
      applyPatch(e.details as Record<string, unknown>, Array.isArray(body) ? body : []);
      return { status: 200, body: {} };
    }
    // A dbt test's result (tests_mixin.py `add_test_case_results`): kept on the test case.
    const result = /^dataQuality\/testCases\/(.+)\/testCaseResult$/.exec(path);
    if (method === 'PUT' && result) {
      const tc = this.get('dataQuality/testCases', decodeURIComponent(result[1]!));
      if (tc) tc.testCaseResult = body;
      return { status: 200, body: body ?? {} };
    }
    if (path.startsWith('search/')) return { status: 200, body: { hits: { total: { value: 0, relation: 'eq' }, hits: [] }, aggregations: {} } };
    const byName = /^(.+?)\/name\/(.+)$/.exec(path);
    if (method === 'GET' && byName) return this.found(this.get(byName[1]!, decodeURIComponent(byName[2]!)));
    const segs = path.split('/');
    const idAt = segs.findIndex((s) => UUID.test(s));
    if (idAt > 0) {
      const collection = segs.slice(0, idAt).join('/');
      const entity = [...(this.entities.get(collection)?.values() ?? [])].find((e) => e.id === segs[idAt]);
      const rest = segs.slice(idAt + 1).join('/');
      if (!entity) return { status: 404, body: { code: 404, message: `${collection} instance for ${segs[idAt]} not found` } };
      if (method === 'GET' && rest === '') return { status: 200, body: entity };
      if (method === 'PATCH' && rest === '') {
        const ops = Array.isArray(body) ? body : [];
        applyPatch(entity, ops);
        this.patches.push({ collection, fqn: entity.fullyQualifiedName, ops });
        return { status: 200, body: entity };
      }
      if (method === 'PUT' && rest === 'dataModel') {
        entity.dataModel = body;
        return { status: 200, body: entity };
      }
      if (method === 'PUT' && rest === 'followers') return { status: 200, body: entity };
      return undefined;
    }
    if (method === 'PUT' && segs.length >= 1 && body && typeof body === 'object' && typeof (body as { name?: unknown }).name === 'string') {
      return { status: 200, body: this.upsert(path, body as Record<string, unknown>) };
    }
    if (method === 'GET') {
      const all = [...(this.entities.get(path)?.values() ?? [])];
      return { status: 200, body: { data: all, paging: { total: all.length } } };
    }
    return undefined;
  }

  private upsert(collection: string, req: Record<string, unknown>): Entity {
    const name = String(req.name);
    const parent = collection === 'dataQuality/testSuites/executable' ? undefined : (['databaseSchema', 'database', 'service', 'classification'].map((k) => req[k]).find((v) => typeof v === 'string') as string | undefined);
    const fqn = parent ? `${parent}.${quote(name)}` : quote(name);
    const old = this.get(collection, fqn);
    const entity: Entity = { ...(old ?? {}), ...req, id: old?.id ?? randomUUID(), name, fullyQualifiedName: fqn, version: old ? Number(old.version ?? 0.1) + 0.1 : 0.1, deleted: false };
    for (const [k, type] of Object.entries(REFERENCES)) {
      const v = req[k];
      if (typeof v !== 'string') continue;
      const target = [...this.entities.values()].flatMap((m) => [...m.values()]).find((e) => e.fullyQualifiedName === v);
      entity[k] = { id: target?.id ?? randomUUID(), type: type === 'Service' ? serviceType(collection) : type, name: v.split('.').pop(), fullyQualifiedName: v };
    }
    if (Array.isArray(req.columns)) {
      entity.columns = (req.columns as Array<Record<string, unknown>>).map((c) => ({ ...c, fullyQualifiedName: `${fqn}.${quote(String(c.name))}` }));
    }
    this.col(collection).set(fqn, entity);
    return entity;
  }

  /** The entity reference of a stored entity, by id. */
  private ref(id: string): Record<string, unknown> | undefined {
    for (const [collection, m] of this.entities) {
      for (const e of m.values()) if (e.id === id) return { id, type: collection === 'tables' ? 'table' : collection, name: e.name, fullyQualifiedName: e.fullyQualifiedName };
    }
    return undefined;
  }

  private found(e: Entity | undefined): Answer {
    return e ? { status: 200, body: e } : { status: 404, body: { code: 404, message: 'instance not found' } };
  }

  private col(collection: string): Map<string, Entity> {
    let m = this.entities.get(collection);
    if (!m) this.entities.set(collection, (m = new Map()));
    return m;
  }
}

function quote(name: string): string {
  return name.includes('.') ? `"${name}"` : name;
}

function serviceType(collection: string): string {
  return collection === 'databases' ? 'databaseService' : 'service';
}

/** RFC 6902 add/replace/remove (what the client's `jsonpatch.make_patch` sends). */
export function applyPatch(target: Record<string, unknown>, ops: unknown[]): void {
  for (const raw of ops) {
    const op = raw as { op: string; path: string; value?: unknown };
    const keys = op.path.split('/').slice(1).map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
    let cur: any = target;
    for (const k of keys.slice(0, -1)) {
      if (cur[k] === undefined) cur[k] = /^\d+$/.test(k) ? [] : {};
      cur = cur[k];
    }
    const last = keys[keys.length - 1]!;
    if (op.op === 'remove') {
      if (Array.isArray(cur)) cur.splice(Number(last), 1);
      else delete cur[last];
    } else if (Array.isArray(cur) && (last === '-' || op.op === 'add')) {
      if (last === '-') cur.push(op.value);
      else cur.splice(Number(last), 0, op.value);
    } else cur[last] = op.value;
  }
}
