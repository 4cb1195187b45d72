/**
 * The compiled JSON Schema validators of the pipeline format and of each handler's
 * config. Compiled with Ajv at first use; `npm run gen` can precompile them.
 */
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import pipelineSchema from '../../schemas/pipeline.schema.json' with { type: 'json' };
import commandSchema from '../../schemas/handlers/command.schema.json' with { type: 'json' };
import openmetadataSchema from '../../schemas/handlers/openmetadata.schema.json' with { type: 'json' };

export interface Validators {
  pipeline: ValidateFunction;
  /** Handler name → validator of its config. */
  handlers: Record<string, ValidateFunction>;
}

/** Handler name → config schema; the pipeline schema refers to each by its file name. */
export const HANDLER_SCHEMAS: Record<string, object> = {
  command: commandSchema,
  openmetadata: openmetadataSchema,
};

export function compileValidators(): Validators {
  const ajv = new Ajv.default({ allErrors: true, verbose: true, strict: false, allowUnionTypes: true });
  addFormats.default(ajv);
  for (const s of Object.values(HANDLER_SCHEMAS)) ajv.addSchema(s);
  const pipeline = ajv.compile(pipelineSchema);
  const handlers: Record<string, ValidateFunction> = {};
  for (const [name, s] of Object.entries(HANDLER_SCHEMAS)) handlers[name] = ajv.getSchema((s as { $id: string }).$id)!;
  return { pipeline, handlers };
}
