import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isMap, isSeq, parseDocument, visit, type Document } from 'yaml';
import { canonicalJson, cellHash, shortHash } from '../../src/cell/hash.js';
import { parseCell } from '../../src/cell/load.js';

const DEMO = path.resolve(import.meta.dirname, '../../hardware/cells/demo.yaml');
const demoText = readFileSync(DEMO, 'utf8');

function hashOf(text: string): string {
  const result = parseCell(text, 'cell.yaml');
  if (!result.ok) throw new Error(result.problems.map((p) => `${p.line}:${p.col}: ${p.path}: ${p.message}`).join('\n'));
  return result.hash;
}

function demoWith(edit: (doc: Document) => void): string {
  const doc = parseDocument(demoText);
  edit(doc);
  return doc.toString();
}

const demoHash = hashOf(demoText);

describe('canonicalJson', () => {
  it('sorts object keys at every level and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, 1], c: null } })).toBe('{"a":{"c":null,"d":[3,1]},"b":1}');
    expect(canonicalJson({ a: { c: null, d: [3, 1] }, b: 1 })).toBe(canonicalJson({ b: 1, a: { d: [3, 1], c: null } }));
  });

  it('leaves out undefined members, as JSON does', () => {
    expect(canonicalJson({ a: 1, b: undefined })).toBe('{"a":1}');
  });

  it('refuses numbers JSON cannot hold instead of hashing them as null', () => {
    expect(() => canonicalJson({ a: Number.POSITIVE_INFINITY })).toThrow(/no JSON form/);
  });
});

describe('cellHash', () => {
  it('is a full sha256 in hex; the summary shows its first 12 characters', () => {
    expect(demoHash).toMatch(/^[0-9a-f]{64}$/);
    expect(shortHash(demoHash)).toBe(demoHash.slice(0, 12));
    const result = parseCell(demoText, 'demo.yaml');
    expect(result.ok && result.summary.endsWith(`hash ${demoHash.slice(0, 12)}`)).toBe(true);
  });

  it('does not depend on key order', () => {
    const reordered = demoWith((doc) => {
      visit(doc, {
        Map(_, map) {
          map.items.reverse();
        },
      });
    });
    expect(reordered).not.toBe(demoText);
    expect(reordered.indexOf('safety:')).toBeLessThan(reordered.indexOf('version:'));
    expect(hashOf(reordered)).toBe(demoHash);
  });

  it('does not depend on comments or layout', () => {
    const doc = parseDocument(demoText);
    visit(doc, {
      Node(_, node) {
        node.comment = null;
        node.commentBefore = null;
        if (isMap(node) || isSeq(node)) node.flow = false;
      },
    });
    doc.commentBefore = null;
    const plain = doc.toString({ indent: 4 });
    expect(plain).not.toContain('#');
    expect(plain).not.toMatch(/\{\s*\w/); // no flow mappings left, only empty ones ({})
    expect(hashOf(plain)).toBe(demoHash);
    const asJson = JSON.stringify(parseDocument(demoText).toJS());
    expect(hashOf(asJson)).toBe(demoHash);
  });

  it('does not depend on writing a default explicitly or leaving it out', () => {
    const withoutDefaults = demoWith((doc) => {
      doc.deleteIn(['devices', 'arm', 'stop_category']); // default 1
      doc.deleteIn(['devices', 'conveyor', 'sensor_window_mm']); // default 5
      doc.deleteIn(['devices', 'feeder', 'confirm']); // default { factor: 1.5, margin_ms: 300 }
    });
    const withMoreDefaults = demoWith((doc) => {
      doc.setIn(['devices', 'feeder', 'safety_relevant'], false);
      doc.setIn(['devices', 'arm', 'gripper', 'vacuum_ok', 'debounce_ms'], 0);
      doc.setIn(['safety', 'interlocks', 0, 'forbid', 'command'], 'any');
    });
    expect(hashOf(withoutDefaults)).toBe(demoHash);
    expect(hashOf(withMoreDefaults)).toBe(demoHash);
  });

  it('changes when any value changes', () => {
    const edits: Array<(doc: Document) => void> = [
      (doc) => doc.setIn(['devices', 'feeder', 'release_pulse_ms'], 151),
      (doc) => doc.setIn(['devices', 'arm', 'poses', 'pick', 4], 0.71),
      (doc) => doc.setIn(['devices', 'arm', 'stop_category'], 0),
      (doc) => doc.setIn(['cell', 'description'], 'another description'),
      (doc) => doc.setIn(['safety', 'zones', 'pick_zone', 'margin_rad'], 0.11),
      (doc) => doc.setIn(['safety', 'interlocks', 0, 'forbid', 'command'], 'index'),
      // Order of a list is meaning (joints run base to tool; interlocks are listed in order).
      (doc) => (doc.getIn(['safety', 'interlocks']) as { items: unknown[] }).items.reverse(),
    ];
    const hashes = edits.map((edit) => hashOf(demoWith(edit)));
    for (const hash of hashes) expect(hash).not.toBe(demoHash);
    expect(new Set(hashes).size).toBe(hashes.length);
  });

  it('is a pure function of the parsed description', () => {
    const result = parseCell(demoText, 'a.yaml');
    if (!result.ok) throw new Error('demo invalid');
    expect(cellHash(structuredClone(result.cell))).toBe(result.hash);
  });
});
