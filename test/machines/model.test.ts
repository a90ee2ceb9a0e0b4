/**
 * Model-based test: xstate/graph walks cellMachine's state space, we extend the shortest path to
 * every vertex by each event accepted there, replay every path on a fresh actor and check the
 * PackML state after each step. Transition coverage is measured against the transitions declared
 * in the machine definition, not against what the generator produced, and must be 100%.
 */
import { createActor, type ActorLogic, type AnyStateNode, type TransitionDefinition } from 'xstate';
import { adjacencyMapToArray, getAdjacencyMap, getShortestPaths, type AdjacencyMap, type StatePath } from 'xstate/graph';
import { describe, expect, it } from 'vitest';
import {
  cellMachine,
  packmlState,
  type CellEvent,
  type CellInput,
  type CellSnapshot,
  type PackmlState,
} from '../../machines/cellMachine.js';
import { COMMANDS, expectedAfter, type Command } from './packmlTable.js';
import { SAMPLE_EVENTS } from './sampleEvents.js';

type Path = StatePath<CellSnapshot, CellEvent>;
const BOOT = 'boot';

/** A vertex is what decides behaviour: the PackML state and the context fields guards read. */
function vertexKey(snapshot: CellSnapshot): string {
  const { mode, activeEstopSources, flowInterruption, suspendedByFlow } = snapshot.context;
  return JSON.stringify([packmlState(snapshot), mode, activeEstopSources, flowInterruption ?? null, suspendedByFlow]);
}

const traversal = (input: CellInput) => ({
  input,
  events: SAMPLE_EVENTS,
  serializeState: (snapshot: CellSnapshot) => vertexKey(snapshot),
  serializeEvent: (event: CellEvent) => JSON.stringify(event),
});

const isNoOp = (t: TransitionDefinition<any, any>) => t.target === undefined && t.actions.length === 0 && !t.reenter;
const targetName = (t: TransitionDefinition<any, any>) => (t.target?.[0]?.key as string | undefined) ?? 'internal';
const edgeKey = (source: string, eventType: string, target: string) => `${source} --${eventType || 'always'}--> ${target}`;

/** Every transition the definition declares, per PackML leaf state, minus shadowed and no-op ones. */
function declaredEdges(): Set<string> {
  const edges = new Set<string>();
  const leaves: AnyStateNode[] = [];
  const walk = (node: AnyStateNode) => {
    const children = Object.values(node.states) as AnyStateNode[];
    if (children.length === 0) leaves.push(node);
    children.forEach(walk);
  };
  walk(cellMachine.root);
  for (const leaf of leaves) {
    for (const t of leaf.always ?? []) edges.add(edgeKey(leaf.key, '', targetName(t)));
    // The boot pseudo-state resolves before any event can arrive.
    if (leaf.key === BOOT) continue;
    const ancestry: AnyStateNode[] = [];
    for (let n: AnyStateNode | undefined = leaf; n; n = n.parent) ancestry.push(n);
    const eventTypes = new Set(ancestry.flatMap((n) => [...n.transitions.keys()]));
    for (const eventType of eventTypes) {
      for (const node of ancestry) {
        const candidates = node.transitions.get(eventType) ?? [];
        for (const t of candidates) if (!isNoOp(t)) edges.add(edgeKey(leaf.key, eventType, targetName(t)));
        // An unguarded candidate is always taken, so nothing further up is reachable.
        if (candidates.some((t) => t.guard === undefined)) break;
      }
    }
  }
  return edges;
}

/** Replays a path; returns the edges it took. Asserts the state after each step. */
function replay(input: CellInput, path: Path): string[] {
  const taken: string[] = [];
  const actor = createActor(cellMachine, { input });
  let entered: PackmlState[] = [];
  actor.on('state.entered', (e) => entered.push(e.state));
  actor.start();
  expect(entered).toHaveLength(1);
  taken.push(edgeKey(BOOT, '', entered[0]!));
  for (const step of path.steps) {
    const before = actor.getSnapshot();
    const source = packmlState(before);
    const chosen = cellMachine.getTransitionData(before, step.event).filter((t) => !isNoOp(t));
    entered = [];
    actor.send(step.event);
    const after = packmlState(actor.getSnapshot());
    expect(after, `${source} + ${JSON.stringify(step.event)}`).toBe(packmlState(step.state));
    expect(vertexKey(actor.getSnapshot())).toBe(vertexKey(step.state));

    // Commands must also agree with the independent table (Clear's e-stop guard aside).
    if (step.event.type.startsWith('cmd.') && step.event.type !== 'cmd.mode') {
      const expected = expectedAfter(source, step.event.type.slice(4) as Command);
      const clearRefused = step.event.type === 'cmd.clear' && before.context.activeEstopSources.length > 0;
      expect(after).toBe(expected === undefined || clearRefused ? source : expected);
    }

    let current = source;
    const queue = [...entered];
    for (const t of chosen) {
      const target = targetName(t);
      taken.push(edgeKey(source, step.event.type, target));
      if (target !== 'internal') {
        expect(queue.shift()).toBe(target);
        current = target as PackmlState;
      }
    }
    // Whatever else was entered in this macrostep came through eventless transitions.
    for (const next of queue) {
      taken.push(edgeKey(current, '', next));
      current = next;
    }
    expect(current).toBe(after);
  }
  return taken;
}

/** Shortest path to every vertex, extended by every event accepted there. */
function edgePaths(input: CellInput): Path[] {
  const options = traversal(input);
  const shortest = new Map(getShortestPaths(cellMachine, options).map((p) => [vertexKey(p.state), p]));
  // getAdjacencyMap's generic ActorLogic does not infer from a StateMachine; the cast only names its types.
  const adjacency: AdjacencyMap<CellSnapshot, CellEvent> = getAdjacencyMap(
    cellMachine as unknown as ActorLogic<CellSnapshot, CellEvent, CellInput>,
    options,
  );
  const paths: Path[] = [];
  for (const [vertex, head] of shortest) {
    if (!(vertex in adjacency)) throw new Error(`shortest paths reached ${vertex}, which the adjacency map lacks`);
    paths.push(head);
  }
  for (const { state, event, nextState } of adjacencyMapToArray(adjacency)) {
    const head = shortest.get(vertexKey(state));
    if (head === undefined) throw new Error(`no shortest path to vertex ${vertexKey(state)}`);
    if (!state.can(event) && vertexKey(nextState) === vertexKey(state)) continue; // ignored there
    paths.push({ state: nextState, steps: [...head.steps, { event, state: nextState }], weight: head.weight + 1 });
  }
  return paths;
}

describe('cellMachine model-based paths (xstate/graph)', () => {
  const inputs: CellInput[] = [{ activeEstopSources: [] }, { activeEstopSources: ['estop_button'] }];

  it('every declared transition is taken by some generated path, replayed on a fresh actor', () => {
    const declared = declaredEdges();
    const covered = new Set<string>();
    let pathCount = 0;
    for (const input of inputs) {
      for (const path of edgePaths(input)) {
        pathCount += 1;
        for (const edge of replay(input, path)) covered.add(edge);
      }
    }
    const undeclared = [...covered].filter((e) => !declared.has(e));
    const missed = [...declared].filter((e) => !covered.has(e));
    const hit = [...declared].filter((e) => covered.has(e)).length;
    console.log(`cellMachine transition coverage: ${hit}/${declared.size} (${((100 * hit) / declared.size).toFixed(1)}%) over ${pathCount} paths`);
    expect(undeclared).toEqual([]);
    expect(missed).toEqual([]);
  });

  it('the declared transitions include every accepted command of the table', () => {
    const declared = declaredEdges();
    const states = ['Idle', 'Held', 'Suspended', 'Complete', 'Stopped', 'Aborted', 'Resetting', 'Starting', 'Execute',
      'Completing', 'Holding', 'Unholding', 'Suspending', 'Unsuspending', 'Stopping', 'Aborting', 'Clearing'] as const;
    for (const state of states) {
      for (const cmd of COMMANDS) {
        const target = expectedAfter(state, cmd);
        if (target !== undefined) expect(declared, `${state} + ${cmd}`).toContain(edgeKey(state, `cmd.${cmd}`, target));
      }
    }
  });
});
