export { Logger, flushOpenLoggers, type LoggerOptions } from "./logger.js";
export type { LogSink } from "./sink.js";
export { JsonlSink } from "./jsonl.js";
export {
  TensorBoardSink,
  FILE_VERSION,
  frameRecord,
  maskedCrc32c,
  encodeScalarEvent,
  encodeHistogramEvent,
  encodeTextEvent,
} from "./tfevents.js";
export { summarizeHistogram, DEFAULT_BUCKET_LIMITS, type HistogramSummary } from "./histogram.js";
export { Progress, fmtDuration, type ProgressOptions, type ProgressStream, type ProgressUpdate } from "./progress.js";
