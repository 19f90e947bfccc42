import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { decodeDeltaPath } from '../../src/lake/formats/delta/delta-actions.js';
import { DeltaLog } from '../../src/lake/formats/delta/delta-log.js';
import { FileStore } from '../../src/stores/file/file-store.js';

const run = promisify(execFile);

// The other direction of the Delta tests: a table delta-rs wrote (commits and its own checkpoint)
// is read by our log reader — the reader merge and append rely on.
describe('DeltaLog reads tables delta-rs wrote', () => {
  it('replays delta-rs commits, removes and checkpoint to the same files', async () => {
    const python = process.env.LAKE_READER_PYTHON;
    if (!python) throw new Error('LAKE_READER_PYTHON is not set: run the suite with `npm test`');
    const path = mkdtempSync(join(tmpdir(), 'cf-delta-rs-'));
    const script = `
import json, sys, deltalake, pyarrow as pa
path = sys.argv[1]
for batch in range(3):
    ids = list(range(batch * 10, batch * 10 + 10))
    deltalake.write_deltalake(path, pa.table({"id": ids, "region": ["eu" if i % 2 else "us" for i in ids]}),
                              mode="append", partition_by=["region"])
t = deltalake.DeltaTable(path)
t.create_checkpoint()
t.delete("id < 5")
deltalake.write_deltalake(path, pa.table({"id": [100], "region": ["eu"]}), mode="append", partition_by=["region"])
t = deltalake.DeltaTable(path)
adds = pa.table(t.get_add_actions(flatten=True)).to_pydict()
print(json.dumps({"version": t.version(), "files": sorted(adds["path"]), "rows": t.to_pyarrow_table().num_rows}))
sys.stdout.flush()
import os; os._exit(0)
`;
    const { stdout } = await run(python, ['-c', script, path]);
    const theirs = JSON.parse(stdout) as { version: number; files: string[]; rows: number };
    const log = await DeltaLog.open(new FileStore(path), { tempDirectory: mkdtempSync(join(tmpdir(), 'cf-dl-')) });
    const snapshot = await log.snapshot();
    expect(snapshot.version).toBe(theirs.version);
    expect([...snapshot.files.keys()].map(decodeDeltaPath).sort()).toEqual(theirs.files.map(decodeDeltaPath).sort());
    expect(snapshot.metadata?.partitionColumns).toEqual(['region']);
    expect(theirs.rows).toBe(26);
  });
});
