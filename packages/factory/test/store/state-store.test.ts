import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe } from 'vitest';
import { openStateStore } from '@connector-factory/factory';
import { stateStoreContract } from './state-store-contract.js';

describe('state store contract: SQLite', () => {
  let file = '';
  beforeEach(() => {
    file = join(mkdtempSync(join(tmpdir(), 'cf-state-')), 'nested', 'state.db');
  });
  stateStoreContract(() => openStateStore(file));
});
