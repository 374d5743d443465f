/** Replay: columnar ring storage, uniform / PER / ReaPER+ samplers, snapshots, frozen-buffer tools. */
export { replayConfigSchema, replayConfig, type ReplayConfig } from "./config.js";
export {
  ReplayBuffer,
  STAT,
  ReplayDataError,
  type ActionSpec,
  type DrawOptions,
  type PriorityUpdate,
  type ReplayConfigInput,
  type ReplaySpec,
  type SampleInfo,
  type SampledBatch,
  type SequenceBatch,
  type TransitionBatch,
  type UpdateResult,
} from "./buffer.js";
export { PriorityTree } from "./sum-tree.js";
export { distribution, sampleTelemetry, type Distribution, type ReplayTelemetry } from "./telemetry.js";
export {
  formatInspection,
  inspectBuffer,
  inspectReplayFile,
  replayScheduleFile,
  runSchedule,
  scheduleTraceLines,
  writeScheduleTrace,
  type ReplayInspection,
  type ScheduleOptions,
  type ScheduleTrace,
} from "./frozen.js";
