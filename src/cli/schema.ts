/** `workcell schema`: print the JSON Schema of cell descriptions (docs/cell.schema.json). */
import { cellJsonSchema } from '../cell/jsonSchema.js';

export function runSchema(out: NodeJS.WritableStream): number {
  out.write(`${JSON.stringify(cellJsonSchema(), null, 2)}\n`);
  return 0;
}
