/**
 * The rclnodejs adapter: the only code that imports rclnodejs, and only dynamically, only when a
 * cell uses a ros2 transport or `--ros` is given, and only after checking that a ROS 2
 * environment is sourced. Thin: it maps the transport-neutral RosNode onto rclnodejs 2.x and
 * holds no sequencing logic.
 *
 * Facts it is built around (shared/reference/rclnodejs.md): only the default export works from
 * ES modules; QoS takes positional arguments; float64[] arrive as Float64Array unless
 * serializationMode is 'plain'; loading rclnodejs where ROS is not sourced makes it try to
 * rebuild itself (deleting its addon); it installs its own SIGINT handler that shuts ROS down
 * without exiting (ours is used instead).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { RosTopicType, RosTopicTypes } from './messages.js';
import { GoalStatus, type FollowJointTrajectoryGoal, type FollowJointTrajectoryResult, type GoalStatusCode } from './messages.js';
import {
  checkAbsoluteName,
  type FollowJointTrajectoryClient,
  type FollowJointTrajectoryServerHandlers,
  type GoalCallbacks,
  type Qos,
  type RosNode,
  type RosPublisher,
  type TriggerHandler,
  type Unsubscribe,
} from './node.js';

type Rclnodejs = typeof import('rclnodejs');
type RclNode = import('rclnodejs').Node;

/** ROS 2 cannot be used here; the message says what to do. Never shown with a stack trace. */
export class RosUnavailableError extends Error {
  override readonly name = 'RosUnavailableError';
}

const HOW_TO_FIX =
  'source the ROS 2 setup file (e.g. `source /opt/ros/jazzy/setup.bash`), then rebuild rclnodejs against it (`npm_config_yes=true npm rebuild rclnodejs`); see docs/ros2.md';

/** Why ROS 2 cannot be loaded in this environment, or undefined when it looks usable. */
export function rosEnvironmentProblem(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const missing = ['AMENT_PREFIX_PATH', 'ROS_DISTRO'].filter((k) => !env[k]);
  if (missing.length > 0) return `no ROS 2 environment is sourced in this shell (${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} unset)`;
  return undefined;
}

/** Where the rclnodejs package is, if npm installed it. */
function rclnodejsDir(): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    return path.dirname(require.resolve('rclnodejs/package.json'));
  } catch {
    return undefined;
  }
}

/** Why the installed rclnodejs cannot run (no native addon, no generated messages), or undefined. */
function rclnodejsInstallProblem(dir: string, env: NodeJS.ProcessEnv): string | undefined {
  const built = existsSync(path.join(dir, 'build', 'Release', 'rclnodejs.node'));
  // rclnodejs ships prebuilt addons per ROS distribution, Ubuntu release and architecture.
  const distro = env.ROS_DISTRO ?? '';
  const codename = osCodename();
  const prebuildDir = path.join(dir, 'prebuilds', `${process.platform}-${process.arch}`);
  const prebuilt = existsSync(path.join(prebuildDir, `${distro}-${codename}-${process.arch}-node-rclnodejs.node`));
  if (!built && !prebuilt) {
    const available = existsSync(prebuildDir) ? readdirSync(prebuildDir).filter((f) => f.endsWith('-node-rclnodejs.node')).length : 0;
    return `rclnodejs has no native addon for ROS ${distro} on ${codename || 'this system'} (${process.platform}-${process.arch}): it is not built here, and none of its ${available} prebuilt addons fits`;
  }
  if (!existsSync(path.join(dir, 'generated'))) return 'rclnodejs has no generated message bindings (its install step never ran against a sourced ROS 2)';
  return undefined;
}

function osCodename(): string {
  try {
    return /^VERSION_CODENAME=(.*)$/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1]?.trim() ?? '';
  } catch {
    return '';
  }
}

/**
 * Load rclnodejs, or throw RosUnavailableError saying what to do. Checks the environment first:
 * importing rclnodejs where ROS is not sourced would make it try to rebuild itself.
 */
export async function loadRclnodejs(env: NodeJS.ProcessEnv = process.env): Promise<Rclnodejs> {
  const envProblem = rosEnvironmentProblem(env);
  if (envProblem) throw new RosUnavailableError(`ROS 2 is not available: ${envProblem}. To use ROS 2, ${HOW_TO_FIX}.`);
  const dir = rclnodejsDir();
  if (dir === undefined) {
    throw new RosUnavailableError(`ROS 2 is not available: rclnodejs is not installed. With ROS 2 sourced, run \`npm_config_yes=true npm install rclnodejs\`; see docs/ros2.md.`);
  }
  const installProblem = rclnodejsInstallProblem(dir, env);
  if (installProblem) throw new RosUnavailableError(`ROS 2 is not available: ${installProblem}. ${HOW_TO_FIX[0]!.toUpperCase()}${HOW_TO_FIX.slice(1)}.`);
  let mod: unknown;
  try {
    mod = await import('rclnodejs');
  } catch (error) {
    const first = (error instanceof Error ? error.message : String(error)).split('\n')[0];
    throw new RosUnavailableError(`ROS 2 is not available: rclnodejs failed to load (${first}). ${HOW_TO_FIX[0]!.toUpperCase()}${HOW_TO_FIX.slice(1)}.`);
  }
  // Only the default export works from ES modules.
  return ((mod as { default?: Rclnodejs }).default ?? mod) as Rclnodejs;
}

export interface RclnodejsNodeOptions {
  /** Node name, e.g. `workcell`. */
  name: string;
  /** Node namespace (the operator interface's names are absolute regardless). */
  namespace?: string;
  /** ROS arguments, e.g. ['--ros-args', '-p', 'use_sim_time:=true']. */
  argv?: string[];
}

/** Start rclnodejs (after loadRclnodejs) and create one spinning node. */
export async function createRclnodejsNode(rcl: Rclnodejs, options: RclnodejsNodeOptions): Promise<RclnodejsNode> {
  await rcl.init(undefined, options.argv ?? []);
  // rclnodejs's own SIGINT handler shuts ROS down without exiting; the CLI's handler does a
  // normal Stop first, then closes the node.
  rcl.removeSignalHandlers();
  const node = new rcl.Node(options.name, options.namespace ?? '/');
  node.spin();
  return new RclnodejsNode(rcl, node);
}

/**
 * A goal as the handlers take it everywhere: plain objects and plain arrays. On a real ROS 2,
 * rclnodejs 2.2 hands the execute callback the goal as its message object (`goalHandle.request`),
 * whose sequences are wrappers, not arrays (`points[0]` is undefined), and the goal callback a
 * plain object whose float64[] fields are Float64Arrays unless typed arrays are turned off.
 */
export function plainGoal(goal: unknown): FollowJointTrajectoryGoal {
  const message = goal as { toPlainObject?: (enableTypedArray: boolean) => unknown } | null;
  const plain = message !== null && typeof message === 'object' && typeof message.toPlainObject === 'function' ? message.toPlainObject(false) : goal;
  return withPlainArrays(plain) as FollowJointTrajectoryGoal;
}

function withPlainArrays(value: unknown): unknown {
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return Array.from(value as unknown as ArrayLike<number>);
  if (Array.isArray(value)) return value.map(withPlainArrays);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, field]) => [key, withPlainArrays(field)]));
  return value;
}

export class RclnodejsNode implements RosNode {
  readonly name: string;
  private readonly cleanup: Array<() => void> = [];
  private closed = false;

  constructor(
    private readonly rcl: Rclnodejs,
    private readonly node: RclNode,
  ) {
    this.name = node.name();
  }

  /** The node's use_sim_time parameter (`--ros-args -p use_sim_time:=true`, or a parameters file). */
  useSimTime(): boolean {
    try {
      return this.node.hasParameter('use_sim_time') && this.node.getParameter('use_sim_time').value === true;
    } catch {
      return false;
    }
  }

  private qos(q: Qos): InstanceType<Rclnodejs['QoS']> {
    const { QoS } = this.rcl;
    return new QoS(
      QoS.HistoryPolicy.RMW_QOS_POLICY_HISTORY_KEEP_LAST,
      q.depth,
      q.reliability === 'reliable' ? QoS.ReliabilityPolicy.RMW_QOS_POLICY_RELIABILITY_RELIABLE : QoS.ReliabilityPolicy.RMW_QOS_POLICY_RELIABILITY_BEST_EFFORT,
      q.durability === 'transient_local' ? QoS.DurabilityPolicy.RMW_QOS_POLICY_DURABILITY_TRANSIENT_LOCAL : QoS.DurabilityPolicy.RMW_QOS_POLICY_DURABILITY_VOLATILE,
    );
  }

  createPublisher<K extends RosTopicType>(type: K, topic: string, qos: Qos): RosPublisher<RosTopicTypes[K]> {
    const publisher = this.node.createPublisher(type, checkAbsoluteName('topic', topic), { qos: this.qos(qos) });
    this.cleanup.push(() => this.node.destroyPublisher(publisher));
    // Our message types are the plain-object shape rclnodejs takes for a message; TypeScript cannot
    // relate RosTopicTypes[K] to rclnodejs's generated MessageType<K> for a generic K.
    return { publish: (message) => publisher.publish(message as unknown as Parameters<typeof publisher.publish>[0]) };
  }

  createSubscription<K extends RosTopicType>(type: K, topic: string, qos: Qos, callback: (message: RosTopicTypes[K]) => void): Unsubscribe {
    // 'plain': float64[] as arrays, not Float64Array, so messages have the same shape as in process.
    const subscription = this.node.createSubscription(type, checkAbsoluteName('topic', topic), { qos: this.qos(qos), serializationMode: 'plain' }, (message: unknown) =>
      callback(message as RosTopicTypes[K]),
    );
    let destroyed = false;
    const destroy = () => {
      if (destroyed) return;
      destroyed = true;
      this.node.destroySubscription(subscription);
    };
    this.cleanup.push(destroy);
    return destroy;
  }

  createTriggerService(name: string, handler: TriggerHandler): Unsubscribe {
    const service = this.node.createService('std_srvs/srv/Trigger', checkAbsoluteName('service', name), (_request, response) => {
      let answer: { success: boolean; message: string };
      try {
        answer = handler({});
      } catch (error) {
        answer = { success: false, message: `internal error: ${error instanceof Error ? error.message : String(error)}` };
      }
      response.send(answer);
    });
    let destroyed = false;
    const destroy = () => {
      if (destroyed) return;
      destroyed = true;
      this.node.destroyService(service);
    };
    this.cleanup.push(destroy);
    return destroy;
  }

  createFollowJointTrajectoryClient(action: string): FollowJointTrajectoryClient {
    const client = new this.rcl.ActionClient(this.node, 'control_msgs/action/FollowJointTrajectory', checkAbsoluteName('action', action));
    let destroyed = false;
    const destroy = () => {
      if (destroyed) return;
      destroyed = true;
      client.destroy();
    };
    this.cleanup.push(destroy);
    const report = (error: unknown) => `${error instanceof Error ? error.message : String(error)}`;
    return {
      serverReady: () => client.isActionServerAvailable(),
      sendGoal: (goal, callbacks: GoalCallbacks) => {
        client.sendGoal(goal).then(
          (handle) => {
            if (!handle.accepted) {
              callbacks.onRejected('the action server rejected the goal');
              return;
            }
            callbacks.onAccepted({ cancel: () => void handle.cancelGoal().catch(() => undefined) });
            handle.getResult().then(
              (result: unknown) => callbacks.onResult(handle.status as GoalStatusCode, result as FollowJointTrajectoryResult),
              (error: unknown) => callbacks.onResult(GoalStatus.ABORTED, { error_code: -1, error_string: `no result: ${report(error)}` }),
            );
          },
          (error: unknown) => callbacks.onRejected(`sending the goal failed: ${report(error)}`),
        );
      },
      close: destroy,
    };
  }

  createFollowJointTrajectoryServer(action: string, handlers: FollowJointTrajectoryServerHandlers): Unsubscribe {
    const { ActionServer, GoalResponse, CancelResponse } = this.rcl;
    const server = new ActionServer(
      this.node,
      'control_msgs/action/FollowJointTrajectory',
      checkAbsoluteName('action', action),
      (goalHandle) =>
        new Promise((resolve) => {
          const cancel = handlers.execute(plainGoal(goalHandle.request), (status, result) => {
            if (status === GoalStatus.SUCCEEDED) goalHandle.succeed();
            else if (status === GoalStatus.CANCELED) goalHandle.canceled();
            else goalHandle.abort();
            resolve(result);
          });
          cancels.set(goalHandle, cancel);
        }),
      (goal) => (handlers.onGoal(plainGoal(goal)) === undefined ? GoalResponse.ACCEPT : GoalResponse.REJECT),
      undefined,
      (goalHandle) => {
        if (goalHandle) cancels.get(goalHandle)?.();
        return CancelResponse.ACCEPT;
      },
      { enableTypedArray: false },
    );
    const cancels = new Map<unknown, () => void>();
    let destroyed = false;
    const destroy = () => {
      if (destroyed) return;
      destroyed = true;
      server.destroy();
    };
    this.cleanup.push(destroy);
    return destroy;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const c of this.cleanup.splice(0).reverse()) {
      try {
        c();
      } catch {
        // Shutting down: an entity already gone is fine.
      }
    }
    this.node.destroy();
    this.rcl.shutdown();
  }
}
