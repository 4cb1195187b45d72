/**
 * `runner check` knows OpenMetadata's connectors: a workflow's `source.type` must name a
 * service type the CLI knows (connectors.json, from the 1.10 CLI's generated schemas), and
 * `serviceConnection.config.type` must be that same service type, as the CLI reads them
 * (metadata/utils/class_helper.py `_clean`). Otherwise the CLI fails at 2 AM with "Failed
 * to import source" or a connection of the wrong class. Light on purpose: the loader
 * imports it.
 */
import data from './connectors.json' with { type: 'json' };
import { closest } from '../../util/suggest.js';

/** A problem inside a handler config: where (a path below `config`) and what. */
export interface ConfigProblem {
  path: Array<string | number>;
  message: string;
}

/** Every service type the CLI knows, by its lower-case form. */
const TYPES = new Map(Object.values(data.services as Record<string, string[]>).flat().map((t) => [t.toLowerCase(), t]));

/** The service a source type names, as the CLI reads it: `trino-lineage` → `trino`. */
export function serviceOfSourceType(sourceType: string): string {
  const t = sourceType.toLowerCase().replaceAll('-', '_').replace('_usage', '').replace('_lineage', '').replaceAll('_', '');
  return t === 'metadataelasticsearch' ? 'metadataes' : t;
}

/** The service type (`Trino`) a source type (`trino-usage`) names, or undefined when the CLI knows none. */
export function knownServiceType(sourceType: string): string | undefined {
  return TYPES.get(serviceOfSourceType(sourceType));
}

/** Problems with the connector types of one `openmetadata` config (empty when fine or not judged). */
export function checkConnectorTypes(config: unknown): ConfigProblem[] {
  const source = (config as { source?: { type?: unknown; serviceConnection?: { config?: { type?: unknown } } } } | undefined)?.source;
  const type = source?.type;
  // A reference is judged once substituted (at run time); a custom connector names its own class.
  if (typeof type !== 'string' || type.includes('${') || type.toLowerCase().startsWith('custom')) return [];
  const service = knownServiceType(type);
  const suffix = /-(lineage|usage)$/i.exec(type)?.[0] ?? '';
  if (!service) {
    const near = closest(serviceOfSourceType(type), [...TYPES.keys()]).map((t) => `${t}${suffix}`);
    return [{ path: ['source', 'type'], message: `\`${type}\` is not a source type OpenMetadata knows${hint(near)}` }];
  }
  const connType = source?.serviceConnection?.config?.type;
  if (typeof connType !== 'string' || connType.includes('${') || connType === service) return [];
  const path = ['source', 'serviceConnection', 'config', 'type'];
  const connService = TYPES.get(connType.toLowerCase());
  if (!connService) return [{ path, message: `\`${connType}\` is not a connection type OpenMetadata knows${hint(closest(connType, TYPES.values()))}` }];
  return [{ path, message: `\`${connType}\` does not match source type \`${type}\`: its connection type is \`${service}\` (or, for a ${connService} connection, source type \`${connService.toLowerCase()}${suffix}\`)` }];
}

function hint(near: string[]): string {
  return near.length > 0 ? ` (did you mean ${near.map((n) => `'${n}'`).join(', ')}?)` : '';
}
