/**
 * The JSON Schema of a cell description, for editors (yaml-language-server reads the
 * `# yaml-language-server: $schema=...` line at the top of a cell file) and other tools.
 *
 * It describes the YAML as written (snake_case keys, defaults optional). It sees shapes only:
 * cross-references (unknown poses, devices, channels, ...) are checked by `workcell check`.
 * docs/cell.schema.json is this output, committed; regenerate it with
 * `node dist/src/cli/main.js schema > docs/cell.schema.json`.
 */
import { z } from 'zod';
import { cellSchema } from './schema.js';

export const CELL_SCHEMA_ID = 'urn:workcell:cell-description:1';

/** zod names recursive definitions `__schema0`, ...; the only recursive one is the condition. */
const DEFINITION_NAMES: Record<string, string> = { __schema0: 'condition' };

function renameDefinitions(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(renameDefinitions);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, member] of Object.entries(value as Record<string, unknown>)) {
    if (key === '$ref' && typeof member === 'string') {
      out[key] = member.replace(/^#\/definitions\/(.+)$/, (whole, name: string) => `#/definitions/${DEFINITION_NAMES[name] ?? name}`);
    } else if (key === 'definitions' && member !== null && typeof member === 'object') {
      out[key] = Object.fromEntries(
        Object.entries(member as Record<string, unknown>).map(([name, definition]) => [DEFINITION_NAMES[name] ?? name, renameDefinitions(definition)]),
      );
    } else {
      out[key] = renameDefinitions(member);
    }
  }
  return out;
}

/** JSON Schema (draft-07, the draft editors support best) of the cell description as written. */
export function cellJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(cellSchema, {
    io: 'input',
    target: 'draft-7',
    unrepresentable: 'throw',
    cycles: 'ref',
    reused: 'inline',
  }) as Record<string, unknown>;
  const { $schema, ...body } = renameDefinitions(generated) as Record<string, unknown>;
  const definitions = body.definitions as Record<string, Record<string, unknown>> | undefined;
  if (definitions?.condition !== undefined && definitions.condition.description === undefined) {
    definitions.condition = {
      description: 'a condition: { zone }, { input, is }, { moving }, { any_of: [...] } or { all_of: [...] }',
      ...definitions.condition,
    };
  }
  return {
    $schema,
    $id: CELL_SCHEMA_ID,
    title: 'workcell cell description',
    description:
      'A robotic work cell for workcell: links, devices (feeder, arm, conveyor, io) and safety (e-stop sources, ' +
      'protective stops, zones, interlocks). Shapes only: run `workcell check FILE` for cross-references.',
    ...body,
  };
}
