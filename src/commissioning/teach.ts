/**
 * The teach writer: puts one taught value (an arm pose, a conveyor position) into the cell
 * description file with the `yaml` package's Document API, so comments, key order and the style
 * of untouched lines survive; shows a unified diff before anything is written; keeps a backup.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createTwoFilesPatch } from 'diff';
import { isMap, isScalar, isSeq, parseDocument, type Document, type Node, type YAMLMap } from 'yaml';
import { parseCell, formatProblem } from '../cell/load.js';

export interface TeachProposal {
  file: string;
  /** YAML path of the value, e.g. ['devices', 'arm', 'poses', 'above_pick']. */
  path: string[];
  value: number | number[];
  /** The file as it will be written. */
  newText: string;
  /** Unified diff of the file, old against new. */
  diff: string;
  /** Hash of the file the proposal was made from: the write is refused if it changed since. */
  baseHash: string;
}

export class TeachError extends Error {}

/** Work out the edit and its diff; nothing is written. Throws TeachError with what and where. */
export function proposeTeach(file: string, path: string[], value: number | number[]): TeachProposal {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new TeachError(`cannot read the cell description ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new TeachError(`${file} does not parse as YAML: ${doc.errors[0]!.message}`);
  const parentPath = path.slice(0, -1);
  const parent = doc.getIn(parentPath, true) as Node | undefined;
  if (!isMap(parent)) throw new TeachError(`${file}: ${parentPath.join('.')} is not a mapping; cannot teach ${path.join('.')}`);
  const newText = splice(text, doc, parent, path, value);
  const check = parseCell(newText, file);
  if (!check.ok) {
    throw new TeachError(`teaching ${path.join('.')} would make ${file} invalid: ${check.problems.map(formatProblem).join('; ')}`);
  }
  return { file, path, value, newText, diff: createTwoFilesPatch(file, file, text, newText, 'before', 'after taught'), baseHash: hash(text) };
}

/** Write a proposal: backup (`<file>.bak`) first, then the new text, atomically. Returns the backup path. */
export function writeTeach(proposal: TeachProposal): string {
  const current = readFileSync(proposal.file, 'utf8');
  if (hash(current) !== proposal.baseHash) {
    throw new TeachError(`${proposal.file} changed since the proposal was made; teach again to see the new diff`);
  }
  const backup = `${proposal.file}.bak`;
  copyFileSync(proposal.file, backup);
  const tmp = `${proposal.file}.teach-tmp`;
  writeFileSync(tmp, proposal.newText);
  renameSync(tmp, proposal.file);
  return backup;
}

/**
 * The new file text. The node's source range (from the Document) is replaced in place, so every
 * other byte — comments, alignment, quoting — stays as written; a new key goes on its own line
 * after its last sibling. Anything else (a block sequence, a flow mapping) falls back to the
 * Document's own output, which keeps comments but may re-space lines.
 */
function splice(text: string, doc: Document, parent: YAMLMap, path: string[], value: number | number[]): string {
  const valueText = Array.isArray(value) ? `[${value.map(String).join(', ')}]` : String(value);
  const existing = doc.getIn(path, true) as Node | undefined;
  if (existing?.range && ((isSeq(existing) && existing.flow === true) || isScalar(existing))) {
    return text.slice(0, existing.range[0]) + valueText + text.slice(existing.range[1]);
  }
  const last = parent.items.at(-1);
  const lastKey = last?.key as Node | undefined;
  const lastValue = last?.value as Node | undefined;
  if (existing === undefined && parent.flow !== true && lastKey?.range && lastValue?.range) {
    const lineStart = text.lastIndexOf('\n', lastKey.range[0] - 1) + 1;
    const indent = text.slice(lineStart, lastKey.range[0]);
    const lineEnd = text.indexOf('\n', lastValue.range[1]);
    if (/^ *$/.test(indent) && lineEnd >= 0) {
      const at = lineEnd + 1;
      return `${text.slice(0, at)}${indent}${path.at(-1)!}: ${valueText}\n${text.slice(at)}`;
    }
  }
  const node = doc.createNode(value);
  if (isSeq(node)) node.flow = true;
  doc.setIn(path, node);
  return doc.toString({ lineWidth: 0 });
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
