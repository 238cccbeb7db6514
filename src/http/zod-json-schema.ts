import { z } from 'zod';

export type JsonSchema = Record<string, unknown>;

/** Where a named schema (`.meta({ id })`) of a document goes. */
const COMPONENT_REF = '#/components/schemas/';

/**
 * Zod schemas as JSON Schema draft 2020-12 (OpenAPI 3.1's dialect), for one OpenAPI document.
 * Schemas named with `.meta({ id: 'Review' })` become components (`$ref`
 * `#/components/schemas/Review`), collected in `components`.
 *
 * - Requests are documented as zod's input type (defaults, coercion), answers as its output.
 * - A guard pipe (`z.unknown().refine(…).pipe(schema)`, which bounds the work before the real
 *   check) is documented as the schema it leads to: zod would document its input as `{}`.
 * - Answers' objects do not get `additionalProperties: false` (zod's output of a stripping
 *   object): answers gain fields over time and clients must ignore those they do not know.
 *   Strict request objects keep it (a review with an unknown field is refused).
 * - `.int()`'s ±2^53−1 bounds are left out, and so is the pattern of an answer's date-time (its
 *   `format` says it; a request keeps zod's exact pattern).
 */
export function createSchemaConverter() {
  const components = new Map<string, JsonSchema>();

  function convert(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
    const json = z.toJSONSchema(schema, {
      target: 'draft-2020-12',
      io,
      unrepresentable: 'any',
      reused: 'inline',
      override: ({ zodSchema, jsonSchema }) => {
        const def = zodSchema._zod.def;
        if (io === 'input' && def.type === 'pipe' && (def as z.core.$ZodPipeDef).in._zod.def.type === 'unknown') {
          const { $defs, ...target } = convert((def as z.core.$ZodPipeDef).out as z.ZodType, io);
          void $defs;
          Object.assign(jsonSchema, target);
        }
        if (io === 'output' && def.type === 'object' && (def as z.core.$ZodObjectDef).catchall === undefined)
          delete jsonSchema.additionalProperties;
        if (io === 'output' && jsonSchema.format === 'date-time') delete jsonSchema.pattern;
        if (jsonSchema.maximum === Number.MAX_SAFE_INTEGER) delete jsonSchema.maximum;
        if (jsonSchema.minimum === Number.MIN_SAFE_INTEGER) delete jsonSchema.minimum;
      },
    }) as JsonSchema;
    delete json.$schema;
    const defs = (json.$defs ?? {}) as Record<string, JsonSchema>;
    delete json.$defs;
    const rewrite = <T>(value: T): T =>
      JSON.parse(JSON.stringify(value).replaceAll('"#/$defs/', `"${COMPONENT_REF}`)) as T;
    for (const [id, def] of Object.entries(defs)) {
      const component = rewrite(def);
      const known = components.get(id);
      if (known && JSON.stringify(known) !== JSON.stringify(component)) {
        throw new Error(
          `two different schemas are named ${id} in one OpenAPI document (an input and an output form?): name them apart`,
        );
      }
      components.set(id, component);
    }
    return rewrite(json);
  }

  return {
    convert,
    /** The named schemas met so far, by name (sorted), for `components.schemas`. */
    components: (): Record<string, JsonSchema> =>
      Object.fromEntries([...components].sort(([a], [b]) => a.localeCompare(b))),
    reset: () => components.clear(),
  };
}
