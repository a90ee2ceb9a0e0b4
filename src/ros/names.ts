/**
 * ROS names of a cell's devices, resolved. A device's topic (or action) may be written relative
 * (`feeder/release`); it then resolves under its ros2 link's `node_namespace`
 * (`/cell_a` + `feeder/release` = `/cell_a/feeder/release`), the way rcl resolves a relative
 * name under a node's namespace. validate.ts refuses a relative name on a link without one.
 * Everything on the ROS path works on the resolved description, where every name is absolute.
 */
import type { CellDescription, DigitalInput, DigitalOutput, Link } from '../cell/schema.js';

/** `name` made absolute under the namespace of `linkName` (a ros2 link), or a clear error. */
export function resolveRosName(cell: CellDescription, linkName: string, name: string, what: string): string {
  if (name.startsWith('/')) return name;
  const link: Link | undefined = cell.links[linkName];
  const namespace = link?.transport === 'ros2' ? link.nodeNamespace : undefined;
  if (namespace === undefined) {
    throw new Error(`${what}: relative ROS name "${name}" needs \`node_namespace\` on ros2 link "${linkName}", or write it absolute ("/${name}")`);
  }
  return `${namespace.replace(/\/+$/, '')}/${name}`;
}

/** A copy of the description with every device ROS name absolute. */
export function resolveRosNames(cell: CellDescription): CellDescription {
  const resolved = structuredClone(cell);
  for (const [deviceName, device] of Object.entries(resolved.devices)) {
    const channel = <T extends DigitalInput | DigitalOutput>(channelName: string, spec: T): void => {
      if (spec.topic !== undefined) spec.topic = resolveRosName(resolved, spec.link ?? device.link, spec.topic, `${deviceName}.${channelName} topic`);
    };
    switch (device.kind) {
      case 'feeder':
        channel('release', device.release);
        channel('part_at_pick', device.partAtPick);
        break;
      case 'arm':
        channel('vacuum', device.gripper.vacuum);
        channel('vacuum_ok', device.gripper.vacuumOk);
        if (device.ros !== undefined) {
          const ros = device.ros;
          ros.action = resolveRosName(resolved, device.link, ros.action, `${deviceName} action`);
          ros.trajectoryTopic = resolveRosName(resolved, device.link, ros.trajectoryTopic, `${deviceName} trajectory_topic`);
          ros.jointStatesTopic = resolveRosName(resolved, device.link, ros.jointStatesTopic, `${deviceName} joint_states_topic`);
        }
        break;
      case 'conveyor': {
        const axisLink = device.axis.link ?? device.link;
        // The home sensor defaults to the axis link, not the device link.
        if (device.axis.homeSensor.topic !== undefined) {
          device.axis.homeSensor.topic = resolveRosName(resolved, device.axis.homeSensor.link ?? axisLink, device.axis.homeSensor.topic, `${deviceName}.home topic`);
        }
        channel('part_at_exit', device.partAtExit);
        if (device.axis.speed) device.axis.speed.topic = resolveRosName(resolved, axisLink, device.axis.speed.topic, `${deviceName} axis speed topic`);
        if (device.axis.position) device.axis.position.topic = resolveRosName(resolved, axisLink, device.axis.position.topic, `${deviceName} axis position topic`);
        break;
      }
      case 'io':
        for (const [name, spec] of Object.entries(device.inputs)) channel(name, spec);
        for (const [name, spec] of Object.entries(device.outputs)) channel(name, spec);
        break;
    }
  }
  return resolved;
}
