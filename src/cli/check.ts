/**
 * `workcell check FILE...`: report every problem of each cell description, or its summary.
 * Exit codes: 0 every file is valid; 2 any file has a problem (or no file was given).
 */
import { formatProblem, loadCell } from '../cell/load.js';

export function runCheck(files: string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream): number {
  if (files.length === 0) {
    err.write('workcell check: give at least one cell description file, e.g. hardware/cells/demo.yaml\n');
    return 2;
  }
  let failed = false;
  for (const file of files) {
    const result = loadCell(file);
    if (result.ok) {
      out.write(`${file}: ${result.summary}\n`);
      continue;
    }
    failed = true;
    for (const problem of result.problems) err.write(`${formatProblem(problem)}\n`);
    const count = result.problems.length;
    err.write(`${file}: ${count} problem${count === 1 ? '' : 's'}\n`);
  }
  return failed ? 2 : 0;
}
