import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_NAMESPACE, operatorTopics, validateNamespace } from '../../src/interface/topics.js';

/** rmw's rules for a fully qualified topic name (rmw_validate_full_topic_name). */
function isFullRosTopicName(name: string): boolean {
  return /^(\/[A-Za-z_][A-Za-z0-9_]*)+$/.test(name) && name.length <= 247;
}

describe('operatorTopics', () => {
  it('puts the operator topics under /workcell by default, with their types and latching', () => {
    const topics = operatorTopics();
    expect(DEFAULT_NAMESPACE).toBe('/workcell');
    expect(Object.fromEntries(Object.entries(topics).map(([key, t]) => [key, [t.name, t.type, t.latched]]))).toEqual({
      command: ['/workcell/command', 'std_msgs/msg/String', false],
      state: ['/workcell/state', 'std_msgs/msg/String', true],
      events: ['/workcell/events', 'std_msgs/msg/String', false],
      diagnostics: ['/diagnostics', 'diagnostic_msgs/msg/DiagnosticArray', false],
    });
  });

  it('gives absolute names under a custom namespace and keeps /diagnostics global', () => {
    const topics = operatorTopics('/line_1/cell_2');
    expect(topics.command.name).toBe('/line_1/cell_2/command');
    expect(topics.state.name).toBe('/line_1/cell_2/state');
    expect(topics.events.name).toBe('/line_1/cell_2/events');
    expect(topics.diagnostics.name).toBe('/diagnostics');
  });

  it.each([
    ['workcell', 'it is relative (does not start with /)'],
    ['workcell/cell_1', 'it is relative (does not start with /)'],
    ['~/workcell', "a private name (~) resolves under the node's own name"],
    ['', 'it is empty'],
    ['/', 'the root namespace would put the topics at //command'],
    ['/workcell/', 'it ends with /'],
    ['/line_1//cell_2', 'it contains //'],
    ['/cell-2', 'character "-" at 5 (only letters, digits, _ and /)'],
    ['/cell 2', 'character " " at 5 (only letters, digits, _ and /)'],
    ['/line_1/2nd_cell', '"2nd_cell" starts with a digit'],
  ])('refuses the namespace %j: %s', (namespace, problem) => {
    expect(() => operatorTopics(namespace)).toThrow(
      `namespace ${JSON.stringify(namespace)} is not an absolute ROS name: ${problem} (expected something like /workcell or /line_1/cell_2)`,
    );
  });

  it('refuses a namespace that is not a string (e.g. from unchecked YAML)', () => {
    expect(() => validateNamespace(42 as unknown as string)).toThrow('namespace 42 is not an absolute ROS name: it is a number, not a string');
  });

  it('either refuses a namespace with a message naming it or yields valid ROS topic names (any string)', () => {
    const rosish = fc.stringMatching(/^[/~a-z0-9_ -]{0,24}$/);
    fc.assert(
      fc.property(fc.oneof(rosish, fc.string()), (namespace) => {
        let topics;
        try {
          topics = operatorTopics(namespace);
        } catch (error) {
          expect((error as Error).message).toContain(`namespace ${JSON.stringify(namespace)} is not an absolute ROS name: `);
          return;
        }
        for (const topic of Object.values(topics)) expect(isFullRosTopicName(topic.name), topic.name).toBe(true);
        expect(topics.command.name).toBe(`${namespace}/command`);
      }),
      { numRuns: 1000 },
    );
  });
});
