/**
 * Loading a cell description: YAML -> shapes (zod) -> semantics (validate.ts), with every problem
 * mapped back to the line and column of the offending key or value, so a commissioning engineer
 * can fix a file from the report alone.
 */
import { readFileSync } from 'node:fs';
import { isAlias, isCollection, isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Document } from 'yaml';
import { z } from 'zod';
import { cellHash, shortHash } from './hash.js';
import { cellSchema, type CellDescription } from './schema.js';
import { didYouMean, formatNumber, formatPathForMessage, suggest, validateCell, type Finding, type PathSegment } from './validate.js';

export interface Problem {
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  col: number;
  /** `devices.arm.poses.pick`, `safety.interlocks[2].when.zone`; empty for the file as a whole. */
  path: string;
  message: string;
}

export type LoadResult =
  | { ok: true; cell: CellDescription; hash: string; summary: string }
  | { ok: false; problems: Problem[] };

/** `FILE:LINE:COL: path.to.field: message` (the path is left out when empty). */
export function formatProblem(problem: Problem): string {
  const where = `${problem.file}:${problem.line}:${problem.col}`;
  return problem.path === '' ? `${where}: ${problem.message}` : `${where}: ${problem.path}: ${problem.message}`;
}

export function loadCell(path: string): LoadResult {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    return { ok: false, problems: [{ file: path, line: 1, col: 1, path: '', message: `cannot read the cell description: ${reason}` }] };
  }
  return parseCell(text, path);
}

export function parseCell(text: string, fileName: string): LoadResult {
  const lineCounter = new LineCounter();
  // Duplicate keys are found by our own walk (to name the key and its first line), not by yaml.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  const problems: Problem[] = [];
  const at = (offset: number, path: PathSegment[], message: string) => {
    const { line, col } = lineCounter.linePos(offset);
    problems.push({ file: fileName, line, col, path: formatPathForMessage(path), message });
  };

  // No path for syntax errors: the tree around them is a guess. One mistake (a stray bracket)
  // can leave hundreds of "unexpected token" errors after it; a run of them is reported once.
  const errors = doc.errors;
  for (let i = 0; i < errors.length; i++) {
    const error = errors[i]!;
    let runEnd = i;
    while (error.code === 'UNEXPECTED_TOKEN' && errors[runEnd + 1]?.code === 'UNEXPECTED_TOKEN') runEnd++;
    const more = runEnd - i;
    const through = lineCounter.linePos(errors[runEnd]!.pos[0]).line;
    const unclosed = unclosedFlowCollection(doc, error);
    if (unclosed !== undefined) {
      const noticed = lineCounter.linePos(error.pos[0]).line;
      at(unclosed, [], `YAML syntax: ${error.message} (the bracket opened here is not closed; noticed on line ${noticed})`);
    } else {
      at(error.pos[0], [], `YAML syntax: ${error.message}${more > 0 ? ` (and ${more} more unexpected tokens through line ${through})` : ''}`);
    }
    i = runEnd;
  }
  if (problems.length > 0) return { ok: false, problems: sortProblems(problems) };

  walkNodes(doc, doc.contents, [], (node, path) => {
    if (isMap(node)) {
      const firstLine = new Map<string, number>();
      for (const pair of node.items) {
        const key = keyText(pair.key);
        const offset = rangeStart(pair.key) ?? rangeStart(node) ?? 0;
        const first = firstLine.get(key);
        if (first === undefined) firstLine.set(key, lineCounter.linePos(offset).line);
        else at(offset, [...path, key], `duplicate key "${key}" (first on line ${first}); a key may appear once per mapping`);
      }
    } else if (isAlias(node) && node.resolve(doc) === undefined) {
      at(rangeStart(node) ?? 0, path, `unknown anchor "*${node.source}": the anchor (&${node.source}) must be defined before it is used`);
    }
  });
  if (problems.length > 0) return { ok: false, problems: sortProblems(problems) };

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 1000 });
  } catch (error) {
    at(0, [], `YAML: ${(error as Error).message}`);
    return { ok: false, problems };
  }

  const place = (finding: Finding) => at(locate(doc, finding), finding.path, finding.message);
  const parsed = cellSchema.safeParse(data);
  if (!parsed.success) {
    dropExplainedMissing(parsed.error.issues.flatMap((issue) => issueFindings(issue, [], data))).forEach(place);
    return { ok: false, problems: sortProblems(problems) };
  }
  const cell = parsed.data;
  validateCell(cell).forEach(place);
  if (problems.length > 0) return { ok: false, problems: sortProblems(problems) };

  const hash = cellHash(cell);
  return { ok: true, cell, hash, summary: summarise(cell, hash) };
}

function sortProblems(problems: Problem[]): Problem[] {
  return problems.sort((a, b) => a.line - b.line || a.col - b.col || a.message.localeCompare(b.message));
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

/** `demo_pick_and_place: 4 devices (feeder, arm, conveyor, safety_io), 1 e-stop source, ...; hash 3f2a9c1e04b7` */
export function summarise(cell: CellDescription, hash: string): string {
  const devices = Object.keys(cell.devices);
  const { estopSources, protectiveStops, zones, interlocks } = cell.safety;
  return (
    `${cell.cell.name}: ${plural(devices.length, 'device')} (${devices.join(', ')}), ` +
    `${plural(estopSources.length, 'e-stop source')}, ${plural(protectiveStops.length, 'protective stop')}, ` +
    `${plural(Object.keys(zones).length, 'zone')}, ${plural(interlocks.length, 'interlock')}; hash ${shortHash(hash)}`
  );
}

// ---------------------------------------------------------------------------------------------
// From paths to positions in the YAML document.

/**
 * yaml notices an unclosed `{` or `[` where the next line starts; the engineer needs the bracket
 * itself: the flow collection whose range ends at the error.
 */
function unclosedFlowCollection(doc: Document, error: { code: string; message: string; pos: [number, number] }): number | undefined {
  if (error.code !== 'BAD_INDENT' || !/^Flow (map|sequence)/.test(error.message)) return undefined;
  let start: number | undefined;
  walkNodes(doc, doc.contents, [], (node) => {
    if (isCollection(node) && node.flow && node.range?.[1] === error.pos[0]) start = node.range[0];
  });
  return start;
}

function rangeStart(node: unknown): number | undefined {
  return (node as { range?: [number, number, number] } | null)?.range?.[0];
}

function keyText(key: unknown): string {
  return isScalar(key) ? String(key.value) : String(key);
}

function deref(doc: Document, node: unknown): unknown {
  return isAlias(node) ? (node.resolve(doc) ?? node) : node;
}

/** Follows `path` as far as the document goes: the deepest node reached and the key naming it. */
function follow(doc: Document, path: readonly PathSegment[]): { depth: number; node: unknown; key: unknown } {
  let node: unknown = doc.contents;
  let key: unknown = undefined;
  let depth = 0;
  for (const segment of path) {
    const here = deref(doc, node);
    if (isMap(here)) {
      // The last of duplicate keys is the one that counts, as in yaml's toJS.
      const pair = [...here.items].reverse().find((p) => keyText(p.key) === String(segment));
      if (pair === undefined) break;
      key = pair.key;
      node = pair.value;
    } else if (isSeq(here) && typeof segment === 'number' && segment < here.items.length) {
      key = undefined;
      node = here.items[segment];
    } else {
      break;
    }
    depth++;
  }
  return { depth, node, key };
}

/**
 * The offset a finding points at: a scalar value itself; for a mapping or list (or an empty
 * value), the key that names it; for a missing key, the key naming the mapping that lacks it.
 */
function locate(doc: Document, finding: Finding): number {
  const { depth, node, key } = follow(doc, finding.path);
  const keyStart = rangeStart(key);
  if (finding.at === 'key' && depth === finding.path.length && keyStart !== undefined) return keyStart;
  const complete = depth === finding.path.length;
  const emptyValue = node === null || (isScalar(node) && node.value === null && node.source === '');
  if (complete && !emptyValue && !isCollection(node)) return rangeStart(node) ?? keyStart ?? 0;
  return keyStart ?? rangeStart(node) ?? 0;
}

function walkNodes(doc: Document, node: unknown, path: PathSegment[], visit: (node: unknown, path: PathSegment[]) => void): void {
  if (node === null || node === undefined) return;
  visit(node, path);
  if (isMap(node)) {
    for (const pair of node.items) walkNodes(doc, pair.value, [...path, keyText(pair.key)], visit);
  } else if (isSeq(node)) {
    node.items.forEach((item, index) => walkNodes(doc, item, [...path, index], visit));
  }
}

// ---------------------------------------------------------------------------------------------
// The schema, walked by path: which keys a mapping allows, what a field means.

interface LooseDef {
  type: string;
  shape?: Record<string, z.ZodType>;
  in?: z.ZodType;
  innerType?: z.ZodType;
  getter?: () => z.ZodType;
  options?: z.ZodType[];
  discriminator?: string;
  valueType?: z.ZodType;
  element?: z.ZodType;
  items?: z.ZodType[];
  values?: unknown[];
  entries?: Record<string, unknown>;
}

function defOf(schema: z.ZodType): LooseDef {
  return (schema as unknown as { _zod: { def: LooseDef } })._zod.def;
}

const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'readonly', 'catch', 'nonoptional']);

/** Concrete schemas behind wrappers, pipes, lazies and unions; discriminated unions narrowed by `value`. */
function concrete(schema: z.ZodType, value: unknown): z.ZodType[] {
  const def = defOf(schema);
  if (WRAPPERS.has(def.type) && def.innerType) return concrete(def.innerType, value);
  if (def.type === 'pipe' && def.in) return concrete(def.in, value);
  if (def.type === 'lazy' && def.getter) return concrete(def.getter(), value);
  if (def.type === 'union' && def.options) {
    let options = def.options;
    const tag = def.discriminator;
    if (tag !== undefined && isPlainObject(value) && tag in value) {
      const matching = options.filter((option) => literalValues(option, tag).includes(value[tag]));
      if (matching.length > 0) options = matching;
    }
    return options.flatMap((option) => concrete(option, value));
  }
  return [schema];
}

function literalValues(option: z.ZodType, key: string): unknown[] {
  return concrete(option, undefined).flatMap((s) => {
    const field = defOf(s).shape?.[key];
    return field === undefined ? [] : concrete(field, undefined).flatMap((f) => defOf(f).values ?? []);
  });
}

/** The schemas (as written, with their descriptions) that govern the value at `path`. */
function fieldsAt(path: readonly PathSegment[], data: unknown): z.ZodType[] {
  let fields: z.ZodType[] = [cellSchema];
  let value = data;
  for (const segment of path) {
    fields = fields.flatMap((field) =>
      concrete(field, value).flatMap((s): z.ZodType[] => {
        const def = defOf(s);
        if (def.type === 'object') return def.shape?.[String(segment)] ? [def.shape[String(segment)]!] : [];
        if (def.type === 'record' && def.valueType) return [def.valueType];
        if (def.type === 'array' && def.element) return [def.element];
        if (def.type === 'tuple' && def.items && typeof segment === 'number') return def.items[segment] ? [def.items[segment]] : [];
        return [];
      }),
    );
    value = childOf(value, segment).value;
  }
  return fields;
}

function allowedKeys(path: readonly PathSegment[], data: unknown): string[] {
  const value = valueAt(data, path).value;
  const keys = fieldsAt(path, data)
    .flatMap((field) => concrete(field, value))
    .flatMap((s) => Object.keys(defOf(s).shape ?? {}));
  return [...new Set(keys)];
}

function descriptionOf(schema: z.ZodType): string | undefined {
  const own = z.globalRegistry.get(schema)?.description;
  if (own !== undefined) return own;
  const def = defOf(schema);
  const inner = WRAPPERS.has(def.type) ? def.innerType : def.type === 'pipe' ? def.in : undefined;
  return inner === undefined ? undefined : descriptionOf(inner);
}

function isTupleAt(path: readonly PathSegment[], data: unknown): number | undefined {
  const tuples = fieldsAt(path, data)
    .flatMap((field) => concrete(field, undefined))
    .filter((s) => defOf(s).type === 'tuple');
  return tuples.length === 0 ? undefined : defOf(tuples[0]!).items?.length;
}

// ---------------------------------------------------------------------------------------------
// From zod issues to messages a commissioning engineer can act on.

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function childOf(value: unknown, segment: PathSegment): { found: boolean; value: unknown } {
  if (Array.isArray(value) && typeof segment === 'number') return { found: segment < value.length, value: value[segment] };
  if (isPlainObject(value) && Object.hasOwn(value, String(segment))) return { found: true, value: value[String(segment)] };
  return { found: false, value: undefined };
}

function valueAt(data: unknown, path: readonly PathSegment[]): { found: boolean; value: unknown } {
  let current = { found: true, value: data };
  for (const segment of path) {
    if (!current.found) break;
    current = childOf(current.value, segment);
  }
  return current;
}

const UNITS: Array<[suffix: string, name: string, symbol: string]> = [
  ['_mm_s2', 'millimetres per second squared', 'mm/s²'],
  ['_mm_s', 'millimetres per second', 'mm/s'],
  ['_rad_s', 'radians per second', 'rad/s'],
  ['_per_mm', 'per millimetre', ''],
  ['_ms', 'milliseconds', 'ms'],
  ['_mm', 'millimetres', 'mm'],
  ['_rad', 'radians', 'rad'],
];

/** The unit a key's name promises (`feed_ms` -> milliseconds). */
function unitOf(path: readonly PathSegment[]): { name: string; symbol: string } | undefined {
  const key = [...path].reverse().find((segment): segment is string => typeof segment === 'string');
  const unit = key === undefined ? undefined : UNITS.find(([suffix]) => key.endsWith(suffix));
  return unit === undefined ? undefined : { name: unit[1], symbol: unit[2] };
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'an empty value';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  if (typeof value === 'number') return formatNumber(value);
  if (typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `a list of ${value.length} item${value.length === 1 ? '' : 's'}`;
  if (isPlainObject(value)) return 'a mapping';
  return String(value);
}

function quote(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

function expectedPhrase(expected: string, path: readonly PathSegment[]): string {
  const unit = unitOf(path);
  switch (expected) {
    case 'number':
      return unit ? `a number in ${unit.name}` : 'a number';
    case 'int':
      return unit ? `a whole number in ${unit.name}` : 'a whole number';
    case 'string':
      return 'a string';
    case 'boolean':
      return 'true or false';
    case 'object':
    case 'record':
      return 'a mapping (key: value lines)';
    case 'array':
    case 'tuple':
      return 'a list';
    default:
      return expected;
  }
}

/** `1.2s` where milliseconds are expected: say what to write instead. */
function numberHint(value: unknown, path: readonly PathSegment[]): string {
  if (typeof value !== 'string') return '';
  const unit = unitOf(path);
  const duration = /^\s*(-?\d+(?:\.\d+)?)\s*(ms|s|sec|min)\s*$/i.exec(value);
  if (duration && unit?.symbol === 'ms') {
    const factor = { ms: 1, s: 1000, sec: 1000, min: 60_000 }[duration[2]!.toLowerCase()] ?? 1;
    return ` (write ${formatNumber(Number(duration[1]) * factor)})`;
  }
  if (/^\s*-?\d+(\.\d+)?\s*$/.test(value)) return ' (remove the quotes)';
  return '';
}

function rangeMessage(issue: z.core.$ZodIssueTooSmall | z.core.$ZodIssueTooBig, path: PathSegment[], value: unknown): string {
  const small = issue.code === 'too_small';
  const limit = Number(small ? issue.minimum : issue.maximum);
  const inclusive = issue.inclusive !== false;
  if (issue.origin === 'array') {
    const count = Array.isArray(value) ? value.length : 0;
    const tupleLength = isTupleAt(path, undefined);
    if (tupleLength !== undefined) return `needs exactly ${tupleLength} values, got ${count}`;
    return small ? `needs at least ${plural(limit, 'item')}, got ${count}` : `allows at most ${plural(limit, 'item')}, got ${count}`;
  }
  if (issue.origin === 'string') return small ? 'must not be empty' : `must be at most ${limit} characters long`;
  const unit = unitOf(path);
  const withUnit = (n: number) => (unit?.symbol ? `${formatNumber(n)} ${unit.symbol}` : formatNumber(n));
  const got = typeof value === 'number' ? `, got ${withUnit(value)}` : '';
  if (small && limit === 0 && inclusive) return `must not be negative${got}`;
  if (small) return `must be ${inclusive ? 'at least' : 'greater than'} ${withUnit(limit)}${got}`;
  return `must be ${inclusive ? 'at most' : 'less than'} ${withUnit(limit)}${got}`;
}

function valueMessage(values: readonly unknown[], value: unknown, what?: string): string {
  const options = values.map(quote);
  const guess = typeof value === 'string' ? didYouMean(value, values.filter((v): v is string => typeof v === 'string')) : '';
  const got = what === undefined ? `got ${describeValue(value)}` : `unknown ${what} ${quote(value)}`;
  if (options.length === 1) return `expected ${options[0]}, ${got}${guess}`;
  return what === undefined
    ? `expected one of ${options.join(', ')}, ${got}${guess}`
    : `${got}${guess}; expected one of ${options.join(', ')}`;
}

function missingKey(path: PathSegment[], data: unknown, extra = ''): string {
  const key = String(path[path.length - 1]);
  const description = fieldsAt(path, data).map(descriptionOf).find((d) => d !== undefined);
  const about = extra !== '' ? ` (${extra})` : description !== undefined ? ` (${description})` : '';
  return `missing required key "${key}"${about}`;
}

/** A finding from the shape check, with what is needed to pair a misspelt key with the missing one. */
interface ShapeFinding extends Finding {
  missingKey?: true;
  suggestedKey?: string;
}

/** `feed_s` written for `feed_ms`: the unknown-key message says it all; drop "missing feed_ms". */
function dropExplainedMissing(findings: ShapeFinding[]): ShapeFinding[] {
  const explained = new Set(
    findings.flatMap((f) => (f.suggestedKey === undefined ? [] : [formatPathForMessage([...f.path.slice(0, -1), f.suggestedKey])])),
  );
  return findings.filter((f) => !(f.missingKey && explained.has(formatPathForMessage(f.path))));
}

/** Every issue becomes one or more findings; unions are reduced to the branch the user meant. */
function issueFindings(issue: z.core.$ZodIssue, base: PathSegment[], data: unknown): ShapeFinding[] {
  const path = [...base, ...issue.path.map((segment) => (typeof segment === 'symbol' ? String(segment) : segment))];
  const { found, value } = valueAt(data, path);
  switch (issue.code) {
    case 'invalid_type': {
      if (!found && path.length > 0 && isPlainObject(valueAt(data, path.slice(0, -1)).value)) {
        return [{ path, message: missingKey(path, data), missingKey: true }];
      }
      if (path.length === 0) {
        return [{ path, message: `a cell description is a mapping with version, cell, links, devices and safety; got ${describeValue(value)}` }];
      }
      const emptyHint = value === null && issue.expected === 'object' ? ' (write {} for an empty mapping)' : '';
      return [{ path, message: `expected ${expectedPhrase(issue.expected, path)}, got ${describeValue(value)}${numberHint(value, path)}${emptyHint}` }];
    }
    case 'too_small':
    case 'too_big':
      return [{ path, message: rangeMessage(issue, path, value) }];
    case 'invalid_value':
      return [{ path, message: valueMessage(issue.values, value) }];
    case 'invalid_format':
      return [{ path, message: `${issue.message}; got ${describeValue(value)}` }];
    case 'unrecognized_keys': {
      const known = allowedKeys(path, data);
      return issue.keys.map((key) => {
        const guess = suggest(key, known);
        const hint = guess !== undefined ? ` (did you mean "${guess}"?)` : known.length > 0 ? ` (allowed here: ${known.join(', ')})` : '';
        const finding: ShapeFinding = { path: [...path, key], message: `unknown key "${key}"${hint}`, at: 'key' };
        if (guess !== undefined) finding.suggestedKey = guess;
        return finding;
      });
    }
    case 'invalid_key': {
      const reasons = issue.issues.map((inner) => inner.message).join('; ');
      return [{ path, message: `"${String(path[path.length - 1])}" is not a valid name: ${reasons}`, at: 'key' }];
    }
    case 'invalid_union':
      return unionFindings(issue, path, data, value, found);
    default:
      return [{ path, message: issue.message }];
  }
}

function unionFindings(issue: z.core.$ZodIssueInvalidUnion, path: PathSegment[], data: unknown, value: unknown, found: boolean): ShapeFinding[] {
  const tag = issue.discriminator;
  if (tag !== undefined && issue.errors.length === 0) {
    const options = (issue as { options?: unknown[] }).options ?? [];
    if (!found) return [{ path, message: missingKey(path, data, `one of ${options.map(quote).join(', ')}`), missingKey: true }];
    return [{ path, message: valueMessage(options, value, tag) }];
  }
  // A union of literals (stop categories): one message listing all of them.
  const literals = issue.errors.map((branch) => (branch.length === 1 && branch[0]?.code === 'invalid_value' && branch[0].path.length === 0 ? branch[0].values : undefined));
  if (literals.length > 0 && literals.every((values) => values !== undefined)) {
    return [{ path, message: valueMessage(literals.flat(), value) }];
  }
  let best: { findings: ShapeFinding[]; score: number } | undefined;
  for (const branch of issue.errors) {
    const findings = dropExplainedMissing(branch.flatMap((inner) => issueFindings(inner, path, data)));
    const score = branchScore(branch, path, data);
    if (best === undefined || score > best.score || (score === best.score && findings.length < best.findings.length)) {
      best = { findings, score };
    }
  }
  return best?.findings ?? [{ path, message: issue.message }];
}

/**
 * How well a union branch fits the mapping written: its keys the branch knows (a near-miss key
 * paired with a missing one counts as known). The highest score is the branch the user meant.
 */
function branchScore(branch: z.core.$ZodIssue[], path: PathSegment[], data: unknown): number {
  const only = branch[0];
  if (branch.length === 1 && only?.code === 'invalid_union' && only.path.length === 0 && only.errors.length > 0) {
    return Math.max(...only.errors.map((inner) => branchScore(inner, path, data)));
  }
  const value = valueAt(data, path).value;
  if (!isPlainObject(value)) return 0;
  const unknown = branch.flatMap((i) => (i.code === 'unrecognized_keys' && i.path.length === 0 ? i.keys : []));
  const missing = branch.flatMap((i) =>
    i.code === 'invalid_type' && i.path.length === 1 && !Object.hasOwn(value, String(i.path[0])) ? [String(i.path[0])] : [],
  );
  const typos = unknown.filter((key) => suggest(key, missing) !== undefined).length;
  return Object.keys(value).length - unknown.length + typos;
}
