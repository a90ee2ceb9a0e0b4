/**
 * Consistency checks between the Gazebo cell description (hardware/cells/demo-gazebo.yaml), the
 * ros_gz_bridge YAML, the controller configuration, the world and the arm, as SDFormat reads them.
 * Each check returns its problems as sentences (empty: consistent), so the tests can show that a
 * check finds a planted mistake as well as that the shipped files pass it.
 */
import type { CellDescription } from '../../src/cell/schema.js';
import { add, child, childValue, forwardKinematics, pluginsNamed, rotate, scale, sub, type Pose, type SdfElement, type SdfJoint, type SdfModel, type Vec3 } from './gazebo.js';

export type Direction = 'GZ_TO_ROS' | 'ROS_TO_GZ' | 'BIDIRECTIONAL';

export interface BridgeEntry {
  ros_topic_name: string;
  gz_topic_name: string;
  ros_type_name: string;
  gz_type_name: string;
  direction: Direction;
}

/** ROS <-> Gazebo message pairs that ros_gz_bridge converts, for the types used here. */
export const BRIDGEABLE: Record<string, string> = {
  'std_msgs/msg/Bool': 'gz.msgs.Boolean',
  'std_msgs/msg/Float64': 'gz.msgs.Double',
  'std_msgs/msg/Empty': 'gz.msgs.Empty',
  'nav_msgs/msg/Odometry': 'gz.msgs.Odometry',
  'rosgraph_msgs/msg/Clock': 'gz.msgs.Clock',
};

export interface ChannelTopic {
  /** `devices.feeder.release` */
  where: string;
  topic: string;
  /** in: the cell reads it (Gazebo -> ROS); out: the cell commands it (ROS -> Gazebo). */
  direction: 'in' | 'out';
  /** Channels are std_msgs/msg/Bool; the conveyor axis has a Float64 speed and a position topic. */
  rosType: string;
}

/** Every channel of the cell that has a topic, with the direction its data flows. */
export function channelTopics(cell: CellDescription): ChannelTopic[] {
  const out: ChannelTopic[] = [];
  const add = (where: string, topic: string | undefined, direction: 'in' | 'out', rosType = 'std_msgs/msg/Bool') => {
    if (topic !== undefined) out.push({ where, topic, direction, rosType });
  };
  for (const [name, device] of Object.entries(cell.devices)) {
    const at = `devices.${name}`;
    switch (device.kind) {
      case 'feeder':
        add(`${at}.release`, device.release.topic, 'out');
        add(`${at}.part_at_pick`, device.partAtPick.topic, 'in');
        break;
      case 'arm':
        add(`${at}.gripper.vacuum`, device.gripper.vacuum.topic, 'out');
        add(`${at}.gripper.vacuum_ok`, device.gripper.vacuumOk.topic, 'in');
        break;
      case 'conveyor':
        add(`${at}.axis.home_sensor`, device.axis.homeSensor.topic, 'in');
        add(`${at}.axis.speed`, device.axis.speed?.topic, 'out', 'std_msgs/msg/Float64');
        add(`${at}.axis.position`, device.axis.position?.topic, 'in', device.axis.position?.type);
        add(`${at}.part_at_exit`, device.partAtExit.topic, 'in');
        break;
      case 'io':
        for (const [input, channel] of Object.entries(device.inputs)) add(`${at}.inputs.${input}`, channel.topic, 'in');
        for (const [output, channel] of Object.entries(device.outputs)) add(`${at}.outputs.${output}`, channel.topic, 'out');
        break;
    }
  }
  return out;
}

/** Every `topic` value anywhere in the description: channelTopics must account for all of them. */
export function allTopicValues(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) allTopicValues(v, found);
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'topic' && typeof v === 'string') found.push(v);
      else allTopicValues(v, found);
    }
  }
  return found;
}

// ---------------------------------------------------------------------------------------------
// What the world publishes and subscribes to, on Gazebo transport

export interface GzEndpoint {
  topic: string;
  type: string;
  by: string;
}

function inputOf(plugin: SdfElement): SdfElement | undefined {
  return child(plugin, 'input');
}

/** Topics published (produced) and subscribed (consumed) by the systems of these models. */
export function gzEndpoints(worldPlugins: SdfElement[], models: SdfModel[]): { produced: GzEndpoint[]; consumed: GzEndpoint[] } {
  const produced: GzEndpoint[] = [{ topic: '/clock', type: 'gz.msgs.Clock', by: 'gz sim' }];
  const consumed: GzEndpoint[] = [];
  const visit = (plugins: SdfElement[], owner: string) => {
    for (const p of pluginsNamed(plugins, 'TriggeredPublisher')) {
      const input = inputOf(p);
      if (input) consumed.push({ topic: input.attributes.topic ?? '', type: input.attributes.type ?? '', by: `${owner} TriggeredPublisher` });
      for (const output of p.children.filter((c) => c.tag === 'output')) {
        produced.push({ topic: output.attributes.topic ?? '', type: output.attributes.type ?? '', by: `${owner} TriggeredPublisher` });
      }
    }
    for (const p of pluginsNamed(plugins, 'TrackController')) {
      consumed.push({ topic: childValue(p, 'velocity_topic') ?? '', type: 'gz.msgs.Double', by: `${owner} TrackController` });
      produced.push({ topic: childValue(p, 'odometry_topic') ?? '', type: 'gz.msgs.Odometry', by: `${owner} TrackController` });
    }
    for (const p of pluginsNamed(plugins, 'PerformerDetector')) {
      produced.push({ topic: childValue(p, 'topic') ?? '', type: 'gz.msgs.Pose', by: `${owner} PerformerDetector` });
    }
    for (const p of pluginsNamed(plugins, 'JointPositionController')) {
      consumed.push({ topic: childValue(p, 'topic') ?? '', type: 'gz.msgs.Double', by: `${owner} JointPositionController` });
    }
    for (const p of pluginsNamed(plugins, 'DetachableJoint')) {
      consumed.push({ topic: childValue(p, 'attach_topic') ?? '', type: 'gz.msgs.Empty', by: `${owner} DetachableJoint` });
      consumed.push({ topic: childValue(p, 'detach_topic') ?? '', type: 'gz.msgs.Empty', by: `${owner} DetachableJoint` });
      produced.push({ topic: childValue(p, 'output_topic') ?? '', type: 'gz.msgs.StringMsg', by: `${owner} DetachableJoint` });
    }
    for (const p of pluginsNamed(plugins, 'TouchPlugin')) {
      produced.push({ topic: `/${childValue(p, 'namespace') ?? ''}/touched`, type: 'gz.msgs.Boolean', by: `${owner} TouchPlugin` });
    }
  };
  visit(worldPlugins, 'world');
  const walk = (model: SdfModel) => {
    visit(model.plugins, `model ${model.name}`);
    model.models.forEach(walk);
  };
  models.forEach(walk);
  return { produced, consumed };
}

/**
 * Every topic the cell uses is bridged with the right types and direction, and the world has the
 * other end; the bridge carries nothing else but a one-way clock;
 * every bridged Gazebo topic exists in the world.
 */
export function topicProblems(cell: CellDescription, bridge: BridgeEntry[], endpoints: { produced: GzEndpoint[]; consumed: GzEndpoint[] }): string[] {
  const problems: string[] = [];
  const byRos = new Map(bridge.map((b) => [b.ros_topic_name, b]));
  const expected = new Map<string, { rosType: string; direction: Direction; why: string }>();
  for (const c of channelTopics(cell)) {
    expected.set(c.topic, { rosType: c.rosType, direction: c.direction === 'in' ? 'GZ_TO_ROS' : 'ROS_TO_GZ', why: c.where });
  }
  expected.set('/clock', { rosType: 'rosgraph_msgs/msg/Clock', direction: 'GZ_TO_ROS', why: 'use_sim_time' });

  for (const [topic, want] of expected) {
    const entry = byRos.get(topic);
    if (!entry) {
      problems.push(`${topic} (${want.why}) is not bridged`);
      continue;
    }
    if (entry.ros_type_name !== want.rosType) problems.push(`${topic} (${want.why}) is bridged as ${entry.ros_type_name}, expected ${want.rosType}`);
    if (entry.direction !== want.direction) problems.push(`${topic} (${want.why}) is bridged ${entry.direction}, expected ${want.direction}`);
  }
  for (const entry of bridge) {
    if (!expected.has(entry.ros_topic_name)) problems.push(`${entry.ros_topic_name} is bridged but nothing in the cell uses it`);
    const gzType = BRIDGEABLE[entry.ros_type_name];
    if (gzType === undefined) problems.push(`${entry.ros_topic_name}: ${entry.ros_type_name} is not a type this bridge configuration knows`);
    else if (gzType !== entry.gz_type_name) problems.push(`${entry.ros_topic_name}: ${entry.ros_type_name} bridges to ${gzType}, not ${entry.gz_type_name}`);
    const ends = entry.direction === 'GZ_TO_ROS' ? endpoints.produced : endpoints.consumed;
    const what = entry.direction === 'GZ_TO_ROS' ? 'publishes' : 'subscribes to';
    const match = ends.filter((e) => e.topic === entry.gz_topic_name);
    if (match.length === 0) problems.push(`nothing in the world ${what} ${entry.gz_topic_name} (bridged ${entry.direction})`);
    for (const m of match) {
      if (m.type !== entry.gz_type_name) problems.push(`${m.by} ${what} ${entry.gz_topic_name} as ${m.type}, bridged as ${entry.gz_type_name}`);
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// The arm over ROS: the action and the joint states are served by the controllers

export interface ControllerConfig {
  controller_manager: { ros__parameters: Record<string, unknown> };
  [controller: string]: { ros__parameters: Record<string, unknown> };
}

export function armServiceProblems(cell: CellDescription, controllers: ControllerConfig, urdfJoints: SdfJoint[]): string[] {
  const problems: string[] = [];
  const manager = controllers.controller_manager.ros__parameters;
  const typeOf = (name: string) => (manager[name] as { type?: string } | undefined)?.type;
  for (const [deviceName, device] of Object.entries(cell.devices)) {
    if (device.kind !== 'arm') continue;
    const ros = device.ros;
    if (!ros) {
      problems.push(`devices.${deviceName} has no ros section`);
      continue;
    }
    const action = /^\/([A-Za-z_][A-Za-z0-9_]*)\/follow_joint_trajectory$/.exec(ros.action);
    const controller = action?.[1];
    if (!controller) problems.push(`devices.${deviceName}.ros.action ${ros.action} is not /<controller>/follow_joint_trajectory`);
    else if (typeOf(controller) !== 'joint_trajectory_controller/JointTrajectoryController') {
      problems.push(`devices.${deviceName}.ros.action ${ros.action}: no JointTrajectoryController named ${controller} is configured`);
    } else {
      const params = controllers[controller]?.ros__parameters ?? {};
      const joints = (params.joints as string[] | undefined) ?? [];
      const want = device.joints.map((j) => j.name);
      if (JSON.stringify(joints) !== JSON.stringify(want)) problems.push(`${controller} joints [${joints.join(', ')}] are not the arm's [${want.join(', ')}]`);
      const urdfNames = new Set(urdfJoints.map((j) => j.name));
      for (const joint of joints) if (!urdfNames.has(joint)) problems.push(`${controller} joint ${joint} is not a joint of the URDF`);
      if (JSON.stringify(params.command_interfaces) !== JSON.stringify(['position'])) problems.push(`${controller} must command positions`);
      if (ros.trajectoryTopic !== `/${controller}/joint_trajectory`) {
        problems.push(`devices.${deviceName}.ros.trajectory_topic ${ros.trajectoryTopic}: ${controller} listens on /${controller}/joint_trajectory`);
      }
      const constraints = (params.constraints ?? {}) as Record<string, { goal?: number }>;
      for (const joint of joints) {
        const goal = constraints[joint]?.goal;
        if (goal === undefined || goal > device.toleranceRad) {
          problems.push(`${controller} goal tolerance of ${joint} (${goal ?? 'none'}) is looser than tolerance_rad ${device.toleranceRad}: the action would report success before workcell sees the pose reached`);
        }
      }
    }
    const hasBroadcaster = Object.keys(manager).some((k) => typeOf(k) === 'joint_state_broadcaster/JointStateBroadcaster');
    if (ros.jointStatesTopic !== '/joint_states' || !hasBroadcaster) {
      problems.push(`devices.${deviceName}.ros.joint_states_topic ${ros.jointStatesTopic}: only /joint_states from a joint_state_broadcaster is served`);
    }
  }
  return problems;
}

/** Revolute joints from the base to the tool, following parent -> child. */
export function jointChain(joints: SdfJoint[]): SdfJoint[] {
  const revolute = joints.filter((j) => j.type === 'revolute');
  const children = new Set(revolute.map((j) => j.child));
  const first = revolute.filter((j) => !children.has(j.parent));
  if (first.length !== 1) throw new Error(`the arm's revolute joints do not form one chain (starts: ${first.map((j) => j.name).join(', ')})`);
  const chain = [first[0]!];
  for (;;) {
    const next = revolute.filter((j) => j.parent === chain[chain.length - 1]!.child);
    if (next.length === 0) break;
    if (next.length > 1) throw new Error(`the arm branches after ${chain[chain.length - 1]!.name}`);
    chain.push(next[0]!);
  }
  return chain;
}

/** Joints and limits of the URDF against the cell description's arm; named poses within limits. */
export function jointProblems(cell: CellDescription, urdfJoints: SdfJoint[]): string[] {
  const problems: string[] = [];
  const chain = jointChain(urdfJoints);
  for (const device of Object.values(cell.devices)) {
    if (device.kind !== 'arm') continue;
    const names = chain.map((j) => j.name);
    const want = device.joints.map((j) => j.name);
    if (JSON.stringify(names) !== JSON.stringify(want)) problems.push(`URDF joints from base to tool [${names.join(', ')}] are not the cell's [${want.join(', ')}]`);
    device.joints.forEach((joint, i) => {
      const urdf = chain.find((j) => j.name === joint.name);
      if (!urdf?.axis) return;
      const { lower, upper, velocity } = urdf.axis;
      if (lower !== joint.minRad || upper !== joint.maxRad) problems.push(`${joint.name}: URDF limits [${lower}, ${upper}] differ from the cell's [${joint.minRad}, ${joint.maxRad}]`);
      if (velocity !== joint.maxVelocityRadS) problems.push(`${joint.name}: URDF velocity ${velocity} differs from the cell's ${joint.maxVelocityRadS}`);
      for (const [pose, values] of Object.entries(device.poses)) {
        const v = values[i]!;
        if (lower === null || upper === null || v < lower || v > upper) problems.push(`pose ${pose}: ${joint.name} = ${v} is outside the URDF limits [${lower}, ${upper}]`);
      }
    });
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Clearance: the arm's links as capsules (a segment along the collision's long axis, with the
// radius of its cross-section), other bodies as boxes.


export interface Capsule {
  link: string;
  /** Revolute joints (of the chain) that move this link: the first `joints` of the chain. */
  joints: number;
  a: Vec3;
  b: Vec3;
  radius: number;
}

function quat(pose: Pose): [number, number, number, number] {
  return [pose[3], pose[4], pose[5], pose[6]];
}

/** One capsule per collision of the arm's moving links, at zero joint angles (model frame). */
export function armCapsules(arm: SdfModel): Capsule[] {
  const chain = jointChain(arm.joints);
  // A link moves with the joints up to the one whose child it is; fixed joints pass that on.
  const movedBy = new Map<string, number>();
  chain.forEach((j, i) => movedBy.set(j.child, i + 1));
  for (let changed = true; changed; ) {
    changed = false;
    for (const j of arm.joints) {
      if (j.type === 'fixed' && movedBy.has(j.parent) && !movedBy.has(j.child)) {
        movedBy.set(j.child, movedBy.get(j.parent)!);
        changed = true;
      }
    }
  }
  const capsules: Capsule[] = [];
  for (const link of arm.links) {
    const joints = movedBy.get(link.name);
    if (joints === undefined) continue;
    for (const c of link.collisions) {
      const g = c.geometry;
      let half: Vec3;
      let radius: number;
      if (g?.type === 'box' && g.size) {
        const [x, y, z] = g.size;
        const longest = Math.max(x, y, z);
        const axis = longest === x ? 0 : longest === y ? 1 : 2;
        half = [0, 0, 0];
        half[axis] = longest / 2;
        const others = g.size.filter((_, i) => i !== axis);
        radius = Math.hypot(others[0]! / 2, others[1]! / 2);
      } else if (g?.type === 'cylinder' && g.length !== undefined && g.radius !== undefined) {
        half = [0, 0, g.length / 2];
        radius = g.radius;
      } else {
        throw new Error(`${link.name}/${c.name}: no capsule for geometry ${g?.type}`);
      }
      const centre: Vec3 = [c.pose[0], c.pose[1], c.pose[2]];
      const along = rotate(quat(c.pose), half);
      capsules.push({ link: link.name, joints, a: sub(centre, along), b: add(centre, along), radius });
    }
  }
  return capsules;
}

/** A capsule moved to joint values q. */
export function placeCapsule(capsule: Capsule, chain: SdfJoint[], q: readonly number[]): { a: Vec3; b: Vec3; radius: number } {
  const joints = chain.slice(0, capsule.joints);
  const values = q.slice(0, capsule.joints);
  const a = forwardKinematics(joints, values, capsule.a, [0, 0, 1]).point;
  const b = forwardKinematics(joints, values, capsule.b, [0, 0, 1]).point;
  return { a, b, radius: capsule.radius };
}

export interface Box {
  name: string;
  pose: Pose;
  size: Vec3;
}

/** Distance from a point to a box (0 inside). */
export function pointBoxDistance(p: Vec3, box: Box): number {
  const conj: [number, number, number, number] = [box.pose[3], -box.pose[4], -box.pose[5], -box.pose[6]];
  const local = rotate(conj, sub(p, [box.pose[0], box.pose[1], box.pose[2]]));
  const outside = local.map((v, i) => Math.max(0, Math.abs(v) - box.size[i]! / 2));
  return Math.hypot(outside[0]!, outside[1]!, outside[2]!);
}

/** Clearance between a capsule and a box, by sampling the capsule's segment every 5 mm. */
export function capsuleBoxClearance(capsule: { a: Vec3; b: Vec3; radius: number }, box: Box): number {
  const length = Math.hypot(...sub(capsule.b, capsule.a));
  const steps = Math.max(1, Math.ceil(length / 0.005));
  let best = Infinity;
  for (let i = 0; i <= steps; i++) {
    const p = add(capsule.a, scale(sub(capsule.b, capsule.a), i / steps));
    best = Math.min(best, pointBoxDistance(p, box) - capsule.radius);
  }
  return best;
}

/** The box collisions of a world model, in the world frame. */
export function modelBoxes(model: SdfModel): Box[] {
  return model.links.flatMap((l) =>
    l.collisions
      .filter((c) => c.geometry?.type === 'box' && c.geometry.size)
      .map((c) => ({ name: `${model.name}/${l.name}/${c.name}`, pose: c.pose, size: c.geometry!.size! })),
  );
}

// ---------------------------------------------------------------------------------------------
// Wiring inside Gazebo: every subscription has a publisher of the same type, every publication
// a subscriber, and every service called is served.

export function wiringProblems(worldName: string, worldPlugins: SdfElement[], models: SdfModel[], bridge: BridgeEntry[]): string[] {
  const problems: string[] = [];
  const { produced, consumed } = gzEndpoints(worldPlugins, models);
  const publishers = [
    ...produced,
    { topic: `/world/${worldName}/stats`, type: 'gz.msgs.WorldStatistics', by: 'gz sim' },
    ...bridge.filter((b) => b.direction !== 'GZ_TO_ROS').map((b) => ({ topic: b.gz_topic_name, type: b.gz_type_name, by: 'the bridge' })),
  ];
  const subscribers = [...consumed, ...bridge.filter((b) => b.direction !== 'ROS_TO_GZ').map((b) => ({ topic: b.gz_topic_name, type: b.gz_type_name, by: 'the bridge' }))];
  for (const s of subscribers) {
    const p = publishers.filter((x) => x.topic === s.topic);
    if (p.length === 0) problems.push(`${s.by} subscribes to ${s.topic}, which nothing publishes`);
    for (const x of p) if (x.type !== s.type) problems.push(`${s.by} subscribes to ${s.topic} as ${s.type}, ${x.by} publishes ${x.type}`);
  }
  for (const p of produced) {
    if (!subscribers.some((s) => s.topic === p.topic)) problems.push(`${p.by} publishes ${p.topic}, which nothing subscribes to`);
  }
  // Services: TouchPlugins serve /<namespace>/enable; UserCommands serves /world/<name>/visual_config.
  const served = new Set<string>();
  const systems = [...worldPlugins, ...models.flatMap(function all(m: SdfModel): SdfElement[] {
    return [...m.plugins, ...m.models.flatMap(all)];
  })];
  for (const p of pluginsNamed(systems, 'TouchPlugin')) served.add(`/${childValue(p, 'namespace') ?? ''}/enable`);
  if (pluginsNamed(worldPlugins, 'UserCommands').length > 0) served.add(`/world/${worldName}/visual_config`);
  for (const p of pluginsNamed(systems, 'TriggeredPublisher')) {
    for (const s of p.children.filter((c) => c.tag === 'service')) {
      const name = s.attributes.name ?? '';
      if (!served.has(name)) problems.push(`a TriggeredPublisher calls ${name}, which nothing serves`);
    }
  }
  return problems;
}
