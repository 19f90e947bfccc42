"""The dlt side of `npm run bench -- pg`: the same PostgreSQL table → local parquet load, done by dlt.

Usage: python bench/dlt/dlt_load.py <table> [--chunk-size N] [--expect-rows N]
Reads PG_URL. Loads every column of <table> with dlt's `sql_table` source (backend="pyarrow": rows
fetched through SQLAlchemy/psycopg2 with a server-side cursor, turned into Arrow tables of chunk_size
rows) into a `filesystem` destination on a fresh temp folder, as parquet, zstd, write_disposition
"replace". Everything dlt writes (its pipeline state, extracted and normalized files, and the lake)
lives in that temp folder, which is removed at the end.

Prints one JSON line on stdout:
  {"seconds", "rows", "maxRssKb", "dlt", "bytes", "compression", "files", "chunkSize", "importSeconds"}
`seconds` covers importing dlt and the whole pipeline.run (extract, normalize, load); `rows` and
`compression` are read back from the written parquet footers (after the clock stops).
"""

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time

# Offline and quiet: no telemetry, no dlt Hub lookups, warnings only. Set before dlt is imported.
os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"
os.environ.setdefault("RUNTIME__LOG_LEVEL", "WARNING")
# The parquet writer's codec (dlt's default is snappy). DATA_WRITER__* is read by both the extract
# step (which writes the Arrow tables straight to parquet) and normalize.
os.environ["DATA_WRITER__COMPRESSION"] = "zstd"


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("table")
    p.add_argument("--chunk-size", type=int, default=100_000)
    p.add_argument("--expect-rows", type=int, default=None)
    return p.parse_args()


def peak_rss_kb():
    # Linux reports ru_maxrss in KiB; children (none unless dlt starts a pool) counted too.
    return max(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    )


def parquet_files(folder):
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            if name.endswith(".parquet"):
                yield os.path.join(dirpath, name)


def main():
    args = parse_args()
    url = os.environ.get("PG_URL")
    if not url:
        print("PG_URL is not set", file=sys.stderr)
        return 2
    # SQLAlchemy 2.1 maps a bare postgresql:// to psycopg (3); name the driver the venv has.
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg2://" + url.split("://", 1)[1]
    work = tempfile.mkdtemp(prefix="cf-pg-bench-dlt-")
    lake = os.path.join(work, "lake")
    try:
        started = time.perf_counter()
        import dlt
        from dlt.destinations import filesystem
        from dlt.sources.sql_database import sql_table

        imported = time.perf_counter()
        resource_ = sql_table(
            credentials=url,
            table=args.table,
            backend="pyarrow",
            chunk_size=args.chunk_size,
            reflection_level="full",
            write_disposition="replace",
        )
        pipeline = dlt.pipeline(
            pipeline_name="cf_pg_bench",
            pipelines_dir=os.path.join(work, "pipelines"),
            destination=filesystem(bucket_url=lake),
            dataset_name="bench",
            progress=None,
        )
        pipeline.run(resource_, loader_file_format="parquet", write_disposition="replace")
        seconds = time.perf_counter() - started
        max_rss_kb = peak_rss_kb()

        import pyarrow.parquet as pq

        rows = 0
        codecs = set()
        size = 0
        files = 0
        for path in parquet_files(lake):
            files += 1
            size += os.path.getsize(path)
            meta = pq.ParquetFile(path).metadata
            rows += meta.num_rows
            for rg in range(meta.num_row_groups):
                group = meta.row_group(rg)
                for col in range(group.num_columns):
                    codecs.add(group.column(col).compression)
        if args.expect_rows is not None and rows != args.expect_rows:
            print(f"dlt wrote {rows} rows, expected {args.expect_rows}", file=sys.stderr)
            return 1
        print(
            json.dumps(
                {
                    "seconds": seconds,
                    "rows": rows,
                    "maxRssKb": max_rss_kb,
                    "dlt": dlt.__version__,
                    "bytes": size,
                    "compression": ",".join(sorted(codecs)).lower(),
                    "files": files,
                    "chunkSize": args.chunk_size,
                    "importSeconds": imported - started,
                }
            )
        )
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
