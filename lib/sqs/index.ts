export { SqsDeadLetterBackend, type SqsDeadLetterBackendOptions } from './dlq-backend.js';
