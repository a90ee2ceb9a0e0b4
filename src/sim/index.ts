/** The embedded simulator: simulated devices behind the DeviceDriver interface, faults, scenarios. */
export { createSimulatedCell, DEFAULT_JOINT_STATE_PERIOD_MS, type SimOptions, type SimulatedCell, type ScenarioLogEntry } from './cell.js';
export {
  DeviceLogFile,
  DeviceLogMemory,
  DeviceLogNone,
  PART_EVENTS,
  type CommandOutcome,
  type DeviceLogEntry,
  type DeviceLogSink,
  type MotionEnd,
  type PartEvent,
  type ScenarioTrigger,
} from './deviceLog.js';
export { FAULT_NAMES, FEEDBACK_TYPES, faultInjectionSchema, faultProblem, inputChannels, type FaultInjection, type FaultName, type LosableFeedback } from './faults.js';
export type { PartCounts, PartLocation, SimPart } from './world.js';
export { ARM_STOP_MS } from './arm.js';
export { MARK_HALF_WIDTH_MM } from './conveyor.js';
export { initialInputValue } from './io.js';
export {
  loadScenario,
  parseScenario,
  scenarioProblems,
  ScenarioRunner,
  scenarioSchema,
  PACKML_STATES,
  type Scenario,
  type ScenarioEvent,
  type ScenarioHooks,
} from './scenario.js';
