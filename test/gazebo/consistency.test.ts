/**
 * The Gazebo cell agrees with itself and with hardware/cells/demo.yaml: the cell description, the
 * bridge, the controllers, the arm (through SDFormat's URDF parser) and the world (through
 * SDFormat), with forward kinematics putting the tool tip where the parts are.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe as group, expect, it } from 'vitest';
import YAML from 'yaml';
import { loadCell } from '../../src/cell/load.js';
import type { CellDescription, ConveyorDescription } from '../../src/cell/schema.js';
import { QOS } from '../../src/ros/node.js';
import {
  allTopicValues,
  armCapsules,
  armServiceProblems,
  capsuleBoxClearance,
  modelBoxes,
  placeCapsule,
  channelTopics,
  gzEndpoints,
  jointChain,
  jointProblems,
  topicProblems,
  wiringProblems,
  type BridgeEntry,
  type ControllerConfig,
} from './consistency.js';
import {
  BRIDGE_FILE,
  BRIDGE_QOS_FILE,
  CONTROLLERS_FILE,
  DEMO_CELL,
  GAZEBO_CELL,
  URDF_FILE,
  WORLD_FILE,
  child,
  childValue,
  describe,
  forwardKinematics,
  named,
  norm,
  pluginsNamed,
  position,
  rotate,
  sub,
  transformPoint,
  type Pose,
  type SdfDescription,
  type SdfModel,
  type Vec3,
} from './gazebo.js';

/** How far the tool tip may be from where the part is picked or placed. */
const TIP_TOLERANCE_M = 0.005;
/** How far the tool axis may be from straight down at pick and place. */
const TILT_TOLERANCE_RAD = (5 * Math.PI) / 180;

function load(file: string): CellDescription {
  const r = loadCell(file);
  if (!r.ok) throw new Error(`${file}: ${r.problems.map((p) => p.message).join('; ')}`);
  return r.cell;
}

let world: SdfDescription['worlds'][number];
let arm: SdfModel;
let demo: CellDescription;
let gazeboCell: CellDescription;
let bridge: BridgeEntry[];
let controllers: ControllerConfig;

beforeAll(() => {
  const w = describe(WORLD_FILE).worlds[0];
  const a = describe(URDF_FILE).models[0];
  if (!w || !a) throw new Error('sdfcheck found no world or no arm model');
  world = w;
  arm = a;
  demo = load(DEMO_CELL);
  gazeboCell = load(GAZEBO_CELL);
  bridge = YAML.parse(readFileSync(BRIDGE_FILE, 'utf8')) as BridgeEntry[];
  controllers = YAML.parse(readFileSync(CONTROLLERS_FILE, 'utf8')) as ControllerConfig;
}, 120_000);

function model(name: string): SdfModel {
  return named(world.models, name, 'model');
}
function armDevice(cell: CellDescription) {
  const d = Object.values(cell.devices).find((x) => x.kind === 'arm');
  if (d?.kind !== 'arm') throw new Error('no arm');
  return d;
}
function conveyorDevice(cell: CellDescription): ConveyorDescription {
  const d = Object.values(cell.devices).find((x) => x.kind === 'conveyor');
  if (d?.kind !== 'conveyor') throw new Error('no conveyor');
  return d;
}
function boxSize(m: SdfModel, link: string, collision: string): Vec3 {
  const size = named(named(m.links, link, 'link').collisions, collision, 'collision').geometry?.size;
  if (!size) throw new Error(`${m.name}/${link}/${collision} is not a box`);
  return size;
}
/** A PerformerDetector's region centre in the world: model position + model rotation * offset. */
function detectorCentre(m: SdfModel): Vec3 {
  const detector = pluginsNamed(m.plugins, 'PerformerDetector')[0];
  if (!detector) throw new Error(`${m.name} has no PerformerDetector`);
  const offset = (childValue(detector, 'pose') ?? '0 0 0').trim().split(/\s+/).slice(0, 3).map(Number) as Vec3;
  return transformPoint(m.pose, offset);
}
function detectorSize(m: SdfModel): Vec3 {
  const detector = pluginsNamed(m.plugins, 'PerformerDetector')[0]!;
  const size = child(child(child(detector, 'geometry')!, 'box')!, 'size')!.value;
  return size.trim().split(/\s+/).map(Number) as Vec3;
}
function inverseTransform(pose: Pose, p: Vec3): Vec3 {
  const conj: [number, number, number, number] = [pose[3], -pose[4], -pose[5], -pose[6]];
  return rotate(conj, sub(p, position(pose)));
}

/** The centre of the vacuum cup's rim and the cup's axis, at zero joint angles (model frame). */
function cupTip(): { point: Vec3; direction: Vec3 } {
  const cup = named(named(arm.links, 'vacuum_cup', 'link').collisions, 'vacuum_cup_collision', 'collision');
  if (cup.geometry?.type !== 'cylinder' || cup.geometry.length === undefined) throw new Error('the vacuum cup is not a cylinder');
  const q: [number, number, number, number] = [cup.pose[3], cup.pose[4], cup.pose[5], cup.pose[6]];
  const axis = rotate(q, [0, 0, 1]);
  return { point: transformPoint(cup.pose, [0, 0, cup.geometry.length / 2]), direction: axis };
}

function tipAt(poseName: string): { point: Vec3; direction: Vec3 } {
  const device = armDevice(demo);
  const q = device.poses[poseName];
  if (!q) throw new Error(`demo.yaml has no pose ${poseName}`);
  const tip = cupTip();
  // The arm model is spawned at the world origin (its URDF fixes the base on the pedestal).
  return forwardKinematics(jointChain(arm.joints), q, tip.point, tip.direction);
}

function partHeight(): number {
  return boxSize(model('part_1'), 'body', 'collision')[2];
}

/** Where the cup's rim meets a part resting at the nest: the centre of the part's top face. */
function pickTarget(): Vec3 {
  const centre = detectorCentre(model('feeder'));
  return [centre[0], centre[1], centre[2] + partHeight() / 2];
}

/** The centre of the top face of a part put on the belt at place_position_mm. */
function placeTarget(): Vec3 {
  const conveyor = model('conveyor');
  const [length, , thickness] = boxSize(conveyor, 'belt', 'belt');
  const along = conveyorDevice(demo).placePositionMm / 1000 - length / 2;
  return transformPoint(conveyor.pose, [along, 0, thickness / 2 + partHeight()]);
}

function tilt(direction: Vec3): number {
  return Math.acos(-direction[2] / norm(direction));
}

/**
 * Moves from the arm's start in Gazebo (zero joint angles) home, then one production cycle, in
 * the order the sequence makes them.
 */
const CYCLE = ['zero', 'home', 'above_pick', 'pick', 'above_pick', 'above_place', 'place', 'above_place', 'above_pick'];
const CLEARANCE_M = 0.01;

/**
 * The smallest clearance between the arm's links and the boxes of these models, over straight
 * joint-space moves through the cycle (how a single-point trajectory moves), sampled every 2%.
 */
function cycleClearance(models: string[]): { clearance: number; where: string } {
  const chain = jointChain(arm.joints);
  const capsules = armCapsules(arm);
  const boxes = models.flatMap((m) => modelBoxes(model(m)));
  const poses: Record<string, number[]> = { ...armDevice(demo).poses, zero: new Array<number>(chain.length).fill(0) };
  let best = { clearance: Infinity, where: '' };
  for (let m = 0; m + 1 < CYCLE.length; m++) {
    const from = poses[CYCLE[m]!]!;
    const to = poses[CYCLE[m + 1]!]!;
    for (let s = 0; s <= 50; s++) {
      const q = from.map((v, j) => v + ((to[j]! - v) * s) / 50);
      for (const capsule of capsules) {
        const placed = placeCapsule(capsule, chain, q);
        for (const box of boxes) {
          const c = capsuleBoxClearance(placed, box);
          if (c < best.clearance) best = { clearance: c, where: `${capsule.link} to ${box.name}, ${CYCLE[m]} -> ${CYCLE[m + 1]} at ${s * 2}%` };
        }
      }
    }
  }
  return best;
}

group('the Gazebo cell description', () => {
  it('passes the checker, with every device on a ros2 link', () => {
    expect(loadCell(GAZEBO_CELL).ok).toBe(true);
    expect(Object.values(gazeboCell.links).map((l) => l.transport)).toEqual(['ros2']);
  });

  it('is the demo cell: only links, addresses (the axis speed and position topics too) and heartbeats differ', () => {
    const strip = (value: unknown): unknown => {
      if (Array.isArray(value)) return value.map(strip);
      if (value === null || typeof value !== 'object') return value;
      return Object.fromEntries(
        Object.entries(value)
          .filter(([k]) => !['link', 'links', 'topic', 'pin', 'heartbeat', 'ros', 'description', 'speed', 'position'].includes(k))
          .map(([k, v]) => [k, strip(v)]),
      );
    };
    expect(strip(gazeboCell)).toEqual(strip(demo));
  });

  it('every topic in the description is a channel whose direction is known', () => {
    expect(channelTopics(gazeboCell).map((c) => c.topic).sort()).toEqual(allTopicValues(gazeboCell).sort());
  });
});

group('topics and actions', () => {
  it('every topic the cell uses is bridged with the right types, and the world has its other end', () => {
    expect(topicProblems(gazeboCell, bridge, gzEndpoints(world.plugins, [...world.models, arm]))).toEqual([]);
  });

  it('finds a channel that is not bridged, a wrong direction, an extra topic and a missing world end', () => {
    const broken = bridge
      .filter((b) => b.ros_topic_name !== '/gripper/vacuum')
      .map((b) => (b.ros_topic_name === '/feeder/part_at_pick' ? { ...b, direction: 'ROS_TO_GZ' as const } : b));
    broken.push({ ros_topic_name: '/extra', gz_topic_name: '/extra', ros_type_name: 'std_msgs/msg/Bool', gz_type_name: 'gz.msgs.Boolean', direction: 'GZ_TO_ROS' });
    const problems = topicProblems(gazeboCell, broken, gzEndpoints(world.plugins, [...world.models, arm]));
    expect(problems).toContain('/gripper/vacuum (devices.arm.gripper.vacuum) is not bridged');
    expect(problems).toContain('/feeder/part_at_pick (devices.feeder.part_at_pick) is bridged ROS_TO_GZ, expected GZ_TO_ROS');
    expect(problems).toContain('/extra is bridged but nothing in the cell uses it');
    expect(problems).toContain('nothing in the world publishes /extra (bridged GZ_TO_ROS)');
  });

  it('finds a bridged type that does not match the ROS type or the world', () => {
    const broken = bridge.map((b) => (b.ros_topic_name === '/conveyor/belt_speed' ? { ...b, gz_type_name: 'gz.msgs.Float' } : b));
    const problems = topicProblems(gazeboCell, broken, gzEndpoints(world.plugins, [...world.models, arm]));
    expect(problems).toContain('/conveyor/belt_speed: std_msgs/msg/Float64 bridges to gz.msgs.Double, not gz.msgs.Float');
    expect(problems).toContain('model conveyor TrackController subscribes to /conveyor/belt_speed as gz.msgs.Double, bridged as gz.msgs.Float');
  });

  it('the bridge publishes every input as workcell subscribes to it (QOS.io: reliable, transient_local, depth 1)', () => {
    const params = YAML.parse(readFileSync(BRIDGE_QOS_FILE, 'utf8')) as Record<string, { ros__parameters: { qos_overrides: Record<string, { publisher: Record<string, unknown> }> } }>;
    const overrides = params['/**']!.ros__parameters.qos_overrides;
    const inputs = bridge.filter((b) => b.direction === 'GZ_TO_ROS' && b.ros_type_name === 'std_msgs/msg/Bool').map((b) => b.ros_topic_name);
    expect(Object.keys(overrides).sort()).toEqual([...inputs].sort());
    for (const topic of inputs) {
      expect(overrides[topic]!.publisher, topic).toEqual({ reliability: QOS.io.reliability, durability: QOS.io.durability, history: 'keep_last', depth: QOS.io.depth });
    }
    // The clock keeps the bridge's default (reliable, volatile), which is what QOS.clock expects.
    expect(QOS.clock).toMatchObject({ reliability: 'reliable', durability: 'volatile' });
  });

  it('inside Gazebo, every subscription has a publisher of its type, every publication a subscriber, every service called a server', () => {
    expect(wiringProblems(world.name, world.plugins, [...world.models, arm], bridge)).toEqual([]);
  });

  it('finds a TriggeredPublisher listening to a topic nothing publishes, and a service nobody serves', () => {
    const broken = structuredClone(world);
    const feeder = broken.models.find((m) => m.name === 'feeder')!;
    const release = pluginsNamed(feeder.plugins, 'TriggeredPublisher').find((p) => child(p, 'input')?.attributes.topic === '/feeder/release')!;
    child(release, 'input')!.attributes.topic = '/feeder/relase';
    const part = broken.models.find((m) => m.name === 'part_3')!;
    part.plugins = part.plugins.filter((p) => !p.attributes.name?.endsWith('TouchPlugin'));
    const problems = wiringProblems(broken.name, broken.plugins, [...broken.models, arm], bridge);
    expect(problems).toContain('model feeder TriggeredPublisher subscribes to /feeder/relase, which nothing publishes');
    expect(problems).toContain('a TriggeredPublisher calls /gripper/part_3/touch/enable, which nothing serves');
  });

  it('the clock is bridged one way, Gazebo to ROS', () => {
    const clock = bridge.filter((b) => b.ros_topic_name === '/clock');
    expect(clock).toEqual([{ ros_topic_name: '/clock', gz_topic_name: '/clock', ros_type_name: 'rosgraph_msgs/msg/Clock', gz_type_name: 'gz.msgs.Clock', direction: 'GZ_TO_ROS' }]);
  });

  it('the FollowJointTrajectory action and /joint_states are served by the configured controllers', () => {
    expect(armServiceProblems(gazeboCell, controllers, arm.joints)).toEqual([]);
  });

  it('finds an action no controller serves and a goal tolerance looser than the cell\'s', () => {
    const renamed = structuredClone(gazeboCell);
    armDevice(renamed).ros!.action = '/scaled_joint_trajectory_controller/follow_joint_trajectory';
    expect(armServiceProblems(renamed, controllers, arm.joints)).toEqual([
      'devices.arm.ros.action /scaled_joint_trajectory_controller/follow_joint_trajectory: no JointTrajectoryController named scaled_joint_trajectory_controller is configured',
    ]);
    const loose = structuredClone(controllers);
    (loose.arm_controller!.ros__parameters.constraints as Record<string, { goal: number }>).joint_3!.goal = 0.05;
    expect(armServiceProblems(gazeboCell, loose, arm.joints)).toEqual([
      'arm_controller goal tolerance of joint_3 (0.05) is looser than tolerance_rad 0.01: the action would report success before workcell sees the pose reached',
    ]);
  });
});

group('the arm', () => {
  it('has the cell\'s joints in order, with its limits and speeds, and every named pose within them', () => {
    expect(jointProblems(demo, arm.joints)).toEqual([]);
  });

  it('every joint of the controller configuration exists in the URDF', () => {
    const joints = controllers.arm_controller!.ros__parameters.joints as string[];
    expect(joints.filter((j) => !arm.joints.some((u) => u.name === j))).toEqual([]);
    expect(joints).toHaveLength(6);
  });

  it('finds a named pose outside the joint limits and a renamed joint', () => {
    const outside = structuredClone(demo);
    armDevice(outside).poses.pick![1] = -2.3;
    expect(jointProblems(outside, arm.joints)).toEqual(['pose pick: joint_2 = -2.3 is outside the URDF limits [-2, 2]']);
    const renamed = structuredClone(demo);
    armDevice(renamed).joints[5]!.name = 'wrist_3';
    expect(jointProblems(renamed, arm.joints)[0]).toBe(
      'URDF joints from base to tool [joint_1, joint_2, joint_3, joint_4, joint_5, joint_6] are not the cell\'s [joint_1, joint_2, joint_3, joint_4, joint_5, wrist_3]',
    );
  });

  it(`at pick, the tool tip is on the part at the feeder's nest (within ${TIP_TOLERANCE_M * 1000} mm), pointing down`, () => {
    const tip = tipAt('pick');
    const target = pickTarget();
    expect(norm(sub(tip.point, target))).toBeLessThan(TIP_TOLERANCE_M);
    // The cup reaches the part's top face (so the touch sensor fires) without crushing it.
    expect(tip.point[2]).toBeLessThanOrEqual(target[2] + 0.0005);
    expect(tip.point[2]).toBeGreaterThan(target[2] - 0.003);
    expect(tilt(tip.direction)).toBeLessThan(TILT_TOLERANCE_RAD);
  });

  it(`at place, the tool tip is on the conveyor at place_position_mm (within ${TIP_TOLERANCE_M * 1000} mm), pointing down`, () => {
    const tip = tipAt('place');
    const target = placeTarget();
    expect(norm(sub(tip.point, target))).toBeLessThan(TIP_TOLERANCE_M);
    expect(tip.point[2]).toBeLessThanOrEqual(target[2] + 0.0005);
    expect(tilt(tip.direction)).toBeLessThan(TILT_TOLERANCE_RAD);
    // ... and over the belt, inside its width
    const local = inverseTransform(model('conveyor').pose, tip.point);
    const [, width] = boxSize(model('conveyor'), 'belt', 'belt');
    expect(Math.abs(local[1])).toBeLessThan(width / 2 - 0.02);
  });

  it('above_pick and above_place are straight above pick and place, high enough to clear a part', () => {
    for (const [above, at] of [['above_pick', 'pick'], ['above_place', 'place']] as const) {
      const high = tipAt(above).point;
      const low = tipAt(at).point;
      expect(Math.hypot(high[0] - low[0], high[1] - low[1])).toBeLessThan(TIP_TOLERANCE_M);
      expect(high[2] - low[2]).toBeGreaterThan(partHeight() + 0.05);
    }
  });

  it(`from its start to home and over the production cycle, every link stays ${CLEARANCE_M * 1000} mm clear of the feeder, the conveyor and the rest of the cell`, () => {
    const { clearance, where } = cycleClearance(['pedestal', 'feeder', 'conveyor', 'takeaway', 'bin', 'stack_light']);
    expect(clearance, where).toBeGreaterThan(CLEARANCE_M);
  });

  it('the clearance check notices a magazine moved into the arm\'s path', () => {
    const saved = world;
    world = structuredClone(world);
    const feeder = model('feeder');
    // Pull the magazine 60 mm towards the arm, along the feeder's x axis.
    const shift = rotate([feeder.pose[3], feeder.pose[4], feeder.pose[5], feeder.pose[6]], [-0.06, 0, 0]);
    for (const link of feeder.links) {
      for (const c of link.collisions.filter((x) => x.name.startsWith('tube_'))) {
        c.pose = [c.pose[0] + shift[0], c.pose[1] + shift[1], c.pose[2] + shift[2], c.pose[3], c.pose[4], c.pose[5], c.pose[6]];
      }
    }
    try {
      expect(cycleClearance(['feeder']).clearance).toBeLessThan(CLEARANCE_M);
    } finally {
      world = saved;
    }
  });

  it('the forward kinematics notices a shorter upper arm', () => {
    const shorter = structuredClone(arm);
    // Move the elbow and everything after it 20 mm towards the shoulder.
    for (const j of shorter.joints.slice(shorter.joints.findIndex((x) => x.name === 'joint_3'))) j.pose[0] -= 0.02;
    const saved = arm;
    arm = shorter;
    try {
      expect(norm(sub(tipAt('pick').point, pickTarget()))).toBeGreaterThan(TIP_TOLERANCE_M);
    } finally {
      arm = saved;
    }
  });
});

group('the world agrees with demo.yaml', () => {
  it('the belt is length_mm long; the exit sensor is at exit_position_mm with a sensor_window_mm window', () => {
    const conveyor = model('conveyor');
    const spec = conveyorDevice(demo);
    const [length] = boxSize(conveyor, 'belt', 'belt');
    expect(length * 1000).toBeCloseTo(spec.lengthMm, 6);
    const exit = inverseTransform(conveyor.pose, detectorCentre(conveyor));
    expect((exit[0] + length / 2) * 1000).toBeCloseTo(spec.exitPositionMm, 3);
    expect(detectorSize(conveyor)[0] * 1000).toBeCloseTo(2 * spec.sensorWindowMm, 6);
  });

  it('the belt is driven within max_speed_mm_s and accel_mm_s2, on the bridged topics', () => {
    const track = pluginsNamed(model('conveyor').plugins, 'TrackController')[0]!;
    const spec = conveyorDevice(demo).axis;
    expect(Number(childValue(track, 'max_velocity')) * 1000).toBeCloseTo(spec.maxSpeedMmS, 6);
    expect(Number(childValue(track, 'max_acceleration')) * 1000).toBeCloseTo(spec.accelMmS2, 6);
    expect(childValue(track, 'link')).toBe('belt');
  });

  it('the home sensor sees a mark every index_mm of belt travel', () => {
    const spec = conveyorDevice(demo);
    const marks = pluginsNamed(model('conveyor').plugins, 'TriggeredPublisher')
      .filter((p) => child(p, 'input')?.attributes.topic === '/conveyor/odometry')
      .filter((p) => child(p, 'output')?.value.includes('true'))
      .map((p) => Number(child(child(p, 'input')!, 'match')!.value));
    expect(marks.length).toBeGreaterThan(5);
    marks.forEach((m, i) => expect(m * 1000).toBeCloseTo(i * spec.indexMm, 6));
  });

  it("the feeder's pusher stroke leaves the bottom part of the magazine centred in the nest sensor's window", () => {
    const feeder = model('feeder');
    const pusher = named(feeder.links, 'pusher', 'link');
    const [pusherLength] = boxSize(feeder, 'pusher', 'pusher');
    const [partLength] = boxSize(model('part_1'), 'body', 'collision');
    const restFace = inverseTransform(feeder.pose, position(pusher.pose))[0] - pusherLength / 2;
    const strokes = pluginsNamed(feeder.plugins, 'TriggeredPublisher')
      .map((p) => child(p, 'output'))
      .filter((o) => o?.attributes.topic === '/feeder/pusher/cmd_pos')
      .map((o) => Number(/data:\s*([-\d.e]+)/.exec(o!.value)![1]));
    const stroke = Math.max(...strokes);
    const nest = inverseTransform(feeder.pose, detectorCentre(feeder));
    const partCentre = restFace - stroke - partLength / 2;
    expect(Math.abs(partCentre - nest[0]) * 1000).toBeLessThan(conveyorDevice(demo).sensorWindowMm);
    // The bottom part starts in front of the pusher, behind the nest.
    const bottom = inverseTransform(feeder.pose, position(model('part_1').pose));
    expect(bottom[0] + partLength / 2).toBeLessThanOrEqual(restFace);
    expect(bottom[0]).toBeGreaterThan(nest[0] + partLength);
  });

  it('a release pulse brings the part to the nest within feed_ms, and the pusher pulls back only after its stroke', () => {
    const feeder = model('feeder');
    const controller = pluginsNamed(feeder.plugins, 'JointPositionController')[0]!;
    const speed = Number(childValue(controller, 'cmd_max'));
    const commands = pluginsNamed(feeder.plugins, 'TriggeredPublisher')
      .filter((p) => child(p, 'output')?.attributes.topic === childValue(controller, 'topic'))
      .map((p) => ({ position: Number(/data:\s*([-\d.e]+)/.exec(child(p, 'output')!.value)![1]), delayMs: Number(childValue(p, 'delay_ms') ?? 0) }));
    const out = commands.find((c) => c.position > 0)!;
    const back = commands.find((c) => c.position === 0)!;
    const strokeMs = (out.position / speed) * 1000;
    const spec = Object.values(demo.devices).find((d) => d.kind === 'feeder')!;
    expect(out.delayMs).toBe(0);
    expect(spec.kind === 'feeder' && strokeMs < spec.feedMs).toBe(true);
    expect(back.delayMs).toBeGreaterThan(strokeMs);
  });

  it('the gripper can hold every part: one DetachableJoint per part, each part a performer with a touch sensor', () => {
    const parts = world.models.filter((m) => /^part_\d+$/.test(m.name)).map((m) => m.name);
    expect(parts.length).toBeGreaterThan(1);
    const joints = pluginsNamed(arm.plugins, 'DetachableJoint');
    expect(joints.map((j) => childValue(j, 'child_model')).sort()).toEqual([...parts].sort());
    for (const j of joints) expect(arm.links.map((l) => l.name)).toContain(childValue(j, 'parent_link'));
    const performers = world.plugins
      .filter((p) => p.attributes.name === 'gz::sim')
      .flatMap((p) => p.children.filter((c) => c.tag === 'performer').map((c) => childValue(c, 'ref')));
    expect(performers.sort()).toEqual([...parts].sort());
    const cupCollisions = named(arm.links, 'vacuum_cup', 'link').collisions.map((c) => c.name);
    for (const part of parts) {
      const m = model(part);
      expect(named(m.links, 'body', 'link').sensors.map((s) => s.type)).toContain('contact');
      const touch = pluginsNamed(m.plugins, 'TouchPlugin')[0]!;
      const target = childValue(touch, 'target')!;
      expect(cupCollisions.some((c) => c.includes(target))).toBe(true);
      // Its touch leads to its own attach topic.
      const touched = `/${childValue(touch, 'namespace')}/touched`;
      const attach = pluginsNamed(world.plugins, 'TriggeredPublisher').find((p) => child(p, 'input')?.attributes.topic === touched);
      const joint = joints.find((j) => childValue(j, 'child_model') === part)!;
      expect(child(attach!, 'output')?.attributes.topic).toBe(childValue(joint, 'attach_topic'));
    }
  });
});
