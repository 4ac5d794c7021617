export { errorFamilyOf } from './error-family.js';
export { type TraceLine, TraceRecorder, type TraceRecorderOptions } from './trace-recorder.js';
