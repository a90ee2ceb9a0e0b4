/**
 * `workcell run --ros`: what the CLI needs to put a run on ROS 2. rclnodejs is loaded here (through
 * the adapter) only when asked, after the environment check; without ROS the answer is a message
 * saying what to do, never a stack trace.
 */
import type { RunOptions } from '../runtime/run.js';
import { RealClock } from '../time/clock.js';
import { createRclnodejsNode, loadRclnodejs, RosUnavailableError } from './rclnodejs.js';
import { RosSession } from './session.js';
import { SimTimeClock } from './simTime.js';

/** The ROS node's name: launch files and parameter files key on it. */
export const NODE_NAME = 'workcell';

/**
 * Take ROS's own arguments (`--ros-args ...`, as ros2 launch and ros2 run append them) out of
 * argv: they are for rcl, not for the CLI's option parser.
 */
export function takeRosArgs(argv: string[]): string[] {
  const at = argv.indexOf('--ros-args');
  return at < 0 ? [] : argv.splice(at);
}

export interface RosRunOptions {
  /** The embedded simulator stands behind the ROS interface of the cell's ros2 devices. */
  sim: boolean;
  /** Follow /clock for the cell clock (also set by the ROS parameter use_sim_time). */
  useSimTime: boolean;
  virtualTime: boolean;
  /** `--ros-args ...` from the command line. */
  rosArgs: string[];
  env?: NodeJS.ProcessEnv;
}

export type RosRunParts = Pick<RunOptions, 'drivers' | 'clock' | 'safetyClock'> & {
  face: NonNullable<RunOptions['faces']>[number];
  useSimTime: boolean;
  /** Take the node down when the run never starts (the face does it for a run that did). */
  abandon(): void;
};

/** Load rclnodejs, create the node and the session; a string says why it cannot be done. */
export async function prepareRosRun(options: RosRunOptions): Promise<RosRunParts | string> {
  if (options.virtualTime) return '--ros runs on real time, or on /clock with --use-sim-time: drop --virtual-time';
  let node;
  try {
    const rcl = await loadRclnodejs(options.env ?? process.env);
    const argv = options.useSimTime ? [...withRosArgs(options.rosArgs), '-p', 'use_sim_time:=true'] : options.rosArgs;
    node = await createRclnodejsNode(rcl, { name: NODE_NAME, argv });
  } catch (error) {
    if (error instanceof RosUnavailableError) return error.message;
    return `ROS 2 could not start: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`;
  }
  const useSimTime = options.useSimTime || node.useSimTime();
  const monotonic = new RealClock();
  const session = new RosSession({ node, monotonic, simulateFarSide: options.sim, closeNode: true });
  return {
    drivers: session.drivers,
    face: session.face,
    abandon: () => session.close(),
    useSimTime,
    // Motion deadlines follow /clock; heartbeats and safe-OK timeouts stay on the monotonic clock.
    ...(useSimTime ? { clock: new SimTimeClock(node), safetyClock: monotonic } : {}),
  };
}

function withRosArgs(args: string[]): string[] {
  return args[0] === '--ros-args' ? args : ['--ros-args', ...args];
}
