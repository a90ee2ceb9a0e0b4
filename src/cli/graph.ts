/**
 * `workcell graph`: prints a statechart as a Mermaid stateDiagram-v2, generated from the machine
 * definition (never drawn by hand), so the picture cannot drift from the code.
 */
import type { AnyStateNode, TransitionDefinition } from 'xstate';
import { toDirectedGraph, type DirectedGraphNode } from 'xstate/graph';
import { PACKML_COMMANDS, PACKML_STATES, cellMachine, commandWord, type PackmlCommand } from '../../machines/cellMachine.js';

type AnyTransition = TransitionDefinition<any, any>;

/** Short words for guards, so edge labels read as conditions. */
const GUARD_WORDS: Record<string, string> = {
  isHeldEndState: 'end state held',
  hasNoActiveEstop: 'no e-stop active',
  hasActiveEstop: 'e-stop active',
  isFlowInterrupted: 'flow interrupted',
  isFlowSuspensionOver: 'flow ok after a flow suspension',
  isModeChangeToAnotherMode: 'wait state',
};

const isPackmlKey = (key: string) => (PACKML_STATES as readonly string[]).includes(key);
const isNoOp = (t: AnyTransition) => t.target === undefined && t.actions.length === 0 && !t.reenter;

function guardName(t: AnyTransition): string | undefined {
  const guard = t.guard as unknown;
  if (guard === undefined) return undefined;
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'object' && guard !== null && 'type' in guard) return String(guard.type);
  return 'guarded';
}

function edgeLabel(t: AnyTransition): string {
  const type = t.eventType;
  const command = type.startsWith('cmd.') ? type.slice(4) : undefined;
  const base =
    command !== undefined && (PACKML_COMMANDS as readonly string[]).includes(command)
      ? commandWord(command as PackmlCommand)
      : type === 'stateComplete'
        ? 'SC'
        : type === ''
          ? ''
          : type;
  const guard = guardName(t);
  // A state complete is always guarded by "for this state"; saying so adds nothing.
  const condition = guard === undefined || guard === 'isCompletionOf' ? '' : (GUARD_WORDS[guard] ?? guard);
  if (base === '') return condition === '' ? 'automatic' : condition;
  return condition === '' ? base : `${base} (${condition})`;
}

function leavesUnder(node: AnyStateNode): AnyStateNode[] {
  const children = Object.values(node.states) as AnyStateNode[];
  return children.length === 0 ? [node] : children.flatMap(leavesUnder);
}

/** Whether a state between `leaf` (inclusive) and `owner` (exclusive) always handles `eventType` itself. */
function isShadowed(leaf: AnyStateNode, owner: AnyStateNode, eventType: string): boolean {
  for (let node: AnyStateNode | undefined = leaf; node && node !== owner; node = node.parent) {
    if ((node.transitions.get(eventType) ?? []).some((t: AnyTransition) => t.guard === undefined)) return true;
  }
  return false;
}

function collectNodes(graph: DirectedGraphNode): DirectedGraphNode[] {
  return [graph, ...graph.children.flatMap(collectNodes)];
}

/** The cell machine's transitions flattened onto PackML state names, as Mermaid. */
export function cellMachineMermaid(): string {
  // source -> target -> labels, in first-seen order
  const edges = new Map<string, Map<string, string[]>>();
  const add = (source: string, target: string, label: string) => {
    const targets = edges.get(source) ?? new Map<string, string[]>();
    edges.set(source, targets);
    const labels = targets.get(target) ?? [];
    targets.set(target, labels);
    if (!labels.includes(label)) labels.push(label);
  };

  for (const graphNode of collectNodes(toDirectedGraph(cellMachine))) {
    const owner = graphNode.stateNode;
    const transitions: AnyTransition[] = [
      ...graphNode.edges.map((edge) => edge.transition as AnyTransition),
      ...((owner.always ?? []) as AnyTransition[]),
    ];
    for (const transition of new Set(transitions)) {
      const target = transition.target?.[0];
      if (target === undefined || isNoOp(transition)) continue; // targetless: no state change to draw
      const targetLeaves = leavesUnder(target).filter((n) => isPackmlKey(n.key));
      const targetName = targetLeaves.length === 1 ? targetLeaves[0]!.key : target.key;
      const sources = isPackmlKey(owner.key)
        ? [owner.key]
        : owner.key === 'boot'
          ? ['[*]']
          : leavesUnder(owner)
              .filter((leaf) => isPackmlKey(leaf.key) && !isShadowed(leaf, owner, transition.eventType))
              .map((leaf) => leaf.key);
      const label = owner.key === 'boot' ? `boot${transition.guard ? ` (${edgeLabel(transition)})` : ''}` : edgeLabel(transition);
      for (const source of sources) add(source, targetName, label);
    }
  }

  const order = (name: string) => (name === '[*]' ? -1 : (PACKML_STATES as readonly string[]).indexOf(name));
  const lines = ['stateDiagram-v2'];
  for (const source of [...edges.keys()].sort((a, b) => order(a) - order(b))) {
    const targets = edges.get(source)!;
    for (const target of [...targets.keys()].sort((a, b) => order(a) - order(b))) {
      lines.push(`    ${source} --> ${target} : ${targets.get(target)!.join(', ')}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

const MACHINES: Record<string, () => string> = { cell: cellMachineMermaid };

/** Prints the named machine (default: cell) as Mermaid. Returns the process exit code. */
export function runGraph(out: NodeJS.WritableStream, opts: { machine?: string }): number {
  const name = opts.machine ?? 'cell';
  const render = Object.hasOwn(MACHINES, name) ? MACHINES[name] : undefined;
  if (render === undefined) {
    out.write(`workcell graph: unknown machine '${name}'; known machines: ${Object.keys(MACHINES).join(', ')}\n`);
    return 2;
  }
  out.write(render());
  return 0;
}
