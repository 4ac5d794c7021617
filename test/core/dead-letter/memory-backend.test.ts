import { describe } from 'node:test';
import { MemoryDeadLetterBackend } from '../../../lib/index.js';
import { deadLetterContract } from '../../support/dlq-contract.js';

describe('memory dead-letter backend (contract)', () => {
  deadLetterContract(async () => new MemoryDeadLetterBackend());
});
