#!/usr/bin/env python3
"""Independent lake reader for tests: reads a table the runtime wrote with a third-party library and
prints its rows as ONE JSON document on stdout:

    {"rows": [{col: value, ...}, ...], "columns": [names], "types": [reader's type names],
     "reader": "pyarrow", "version": "<library version>", "files": N, "delta": {...} (delta only)}

Usage:
    python read_lake.py --format parquet|json|avro|delta --path <local path|file://...|s3://bucket/prefix>
                        [--reader pyarrow|duckdb|python|fastavro|deltalake]

Readers per format (first = default):
    parquet  pyarrow (pyarrow.dataset, hive partitioning), duckdb (read_parquet, hive_partitioning)
    json     python (newline-delimited, .gz/.zst via pyarrow codecs; values kept as JSON has them),
             duckdb (read_json_auto, hive_partitioning; infers timestamps/dates from strings)
    avro     fastavro (every *.avro file, hive partition columns from the path)
    delta    deltalake (DeltaTable(...).to_pyarrow_table(); adds "delta": version, protocol, metadata)

Files and folders whose name starts with "_" or "." are ignored (logs, temporary files), except that
delta reads its _delta_log. Hive partition values (key=value folders) are typed like pyarrow infers
them: integers as numbers, everything else as strings, __HIVE_DEFAULT_PARTITION__ as null.

Rows are sorted by all columns (stringified). Values are normalised for comparison: timestamps as
ISO-8601 UTC with microseconds (2025-01-31T12:00:00.123456Z; naive ones are taken as UTC), dates as
YYYY-MM-DD, times as HH:MM:SS.ffffff, decimals as strings, bytes as base64, NaN/±Infinity as strings,
maps as objects.

s3:// paths use the env: AWS_ENDPOINT_URL_S3 (else AWS_ENDPOINT_URL) for an S3-compatible server,
AWS_REGION/AWS_DEFAULT_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN. DuckDB has
no S3 support offline (httpfs is a download), so for duckdb the files are first copied to a temp dir.

Exit status: 0 ok, 2 bad arguments (one line on stderr), 1 the table cannot be read (the reason on
stderr).
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import decimal
import gzip
import io
import json
import math
import os
import re
import shutil
import sys
import tempfile
import uuid
from typing import Any, NoReturn
from urllib.parse import unquote, urlparse

PROG = "read_lake.py"
READERS = {
    "parquet": ["pyarrow", "duckdb"],
    "json": ["python", "duckdb"],
    "avro": ["fastavro"],
    "delta": ["deltalake"],
}
JSON_SUFFIXES = (".json", ".jsonl", ".ndjson")
COMPRESSIONS = {".gz": "gzip", ".gzip": "gzip", ".zst": "zstd", ".zstd": "zstd"}
HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"


class CannotRead(Exception):
    """The table cannot be read (exit 1)."""


class ArgumentParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, exit 2
        bad_arguments(message)


def bad_arguments(message: str) -> NoReturn:
    print(f"{PROG}: error: {message} (see --help)", file=sys.stderr)
    sys.exit(2)


# --- locations -----------------------------------------------------------------------------------


class Location:
    """A table root: a local folder/file, or an s3://bucket/prefix (with a pyarrow S3FileSystem)."""

    def __init__(self, path: str) -> None:
        self.original = path
        if path.startswith("s3://"):
            parsed = urlparse(path)
            if not parsed.netloc:
                bad_arguments(f'"{path}" names no bucket (s3://bucket/prefix)')
            self.is_s3 = True
            self.bucket = parsed.netloc
            self.key = parsed.path.strip("/")
            self.root = f"{self.bucket}/{self.key}".rstrip("/")  # pyarrow.fs path
        else:
            if path.startswith("file://"):
                path = unquote(urlparse(path).path)
            self.is_s3 = False
            self.root = os.path.abspath(path)
        self._fs: Any = None

    @property
    def uri(self) -> str:
        return f"s3://{self.root}" if self.is_s3 else self.root

    def filesystem(self) -> Any:
        if self._fs is None:
            from pyarrow import fs

            if self.is_s3:
                s3 = s3_settings()
                kwargs: dict[str, Any] = {"region": s3["region"]}
                if s3["endpoint"]:
                    endpoint = urlparse(s3["endpoint"])
                    kwargs["endpoint_override"] = endpoint.netloc or s3["endpoint"]
                    kwargs["scheme"] = endpoint.scheme or "https"
                if s3["access_key"] and s3["secret_key"]:
                    kwargs["access_key"] = s3["access_key"]
                    kwargs["secret_key"] = s3["secret_key"]
                    if s3["session_token"]:
                        kwargs["session_token"] = s3["session_token"]
                self._fs = fs.S3FileSystem(**kwargs)
            else:
                self._fs = fs.LocalFileSystem()
        return self._fs

    def files(self, accept: Any = None) -> list[tuple[str, str]]:
        """Every file under the root as (filesystem path, path relative to the root), skipping
        `_`/`.`-prefixed components, sorted; `accept(relative)` filters further."""
        from pyarrow import fs

        filesystem = self.filesystem()
        info = filesystem.get_file_info(self.root)
        if info.type == fs.FileType.NotFound:
            raise CannotRead(f"{self.uri} does not exist")
        if info.type == fs.FileType.File:
            name = self.root.rsplit("/", 1)[-1]
            return [(self.root, name)] if accept is None or accept(name) else []
        out = []
        for entry in filesystem.get_file_info(fs.FileSelector(self.root, recursive=True)):
            if entry.type != fs.FileType.File:
                continue
            relative = entry.path[len(self.root) :].lstrip("/")
            if any(part.startswith(("_", ".")) for part in relative.split("/")):
                continue
            if accept is None or accept(relative):
                out.append((entry.path, relative))
        return sorted(out, key=lambda pair: pair[1])

    def open(self, path: str) -> Any:
        return self.filesystem().open_input_stream(path, compression=None)


def s3_settings() -> dict[str, str | None]:
    env = os.environ.get
    return {
        "endpoint": env("AWS_ENDPOINT_URL_S3") or env("AWS_ENDPOINT_URL") or None,
        "region": env("AWS_REGION") or env("AWS_DEFAULT_REGION") or "us-east-1",
        "access_key": env("AWS_ACCESS_KEY_ID") or None,
        "secret_key": env("AWS_SECRET_ACCESS_KEY") or None,
        "session_token": env("AWS_SESSION_TOKEN") or None,
    }


def hive_raw(relative: str) -> dict[str, str | None]:
    """Partition values from the key=value folders of a relative file path (URL-decoded)."""
    values: dict[str, str | None] = {}
    for part in relative.split("/")[:-1]:
        if "=" in part:
            key, raw = part.split("=", 1)
            value = unquote(raw)
            values[key] = None if value == HIVE_NULL else value
    return values


def hive_typed(per_file: list[dict[str, str | None]]) -> list[dict[str, Any]]:
    """Types partition columns like pyarrow infers them: a key whose values are all integers is an
    integer column, any other a string column."""
    keys = {key for values in per_file for key in values}
    integer = {
        key
        for key in keys
        if all(
            v is None or (re.fullmatch(r"-?\d+", v) is not None and -(2**63) <= int(v) < 2**63)
            for values in per_file
            for k, v in values.items()
            if k == key
        )
    }
    return [
        {k: (int(v) if k in integer and v is not None else v) for k, v in values.items()} for values in per_file
    ]


class LocalCopy:
    """The accepted files of a location as local paths (S3 files copied to a temp dir, keeping their
    relative paths so that hive partitioning still sees key=value folders)."""

    def __init__(self, location: Location, accept: Any = None) -> None:
        self.location = location
        self.accept = accept
        self.temp: str | None = None

    def __enter__(self) -> list[str]:
        files = self.location.files(self.accept)
        if not self.location.is_s3:
            return [path for path, _ in files]
        self.temp = tempfile.mkdtemp(prefix="read-lake-")
        local = []
        for path, relative in files:
            target = os.path.join(self.temp, "table", *relative.split("/"))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with self.location.open(path) as source, open(target, "wb") as sink:
                shutil.copyfileobj(source, sink, 8 * 1024 * 1024)
            local.append(target)
        return local

    def __exit__(self, *exc: object) -> None:
        if self.temp:
            shutil.rmtree(self.temp, ignore_errors=True)


# --- normalisation -------------------------------------------------------------------------------


def normalise(value: Any) -> Any:
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return value
    if isinstance(value, dt.datetime):  # before date: datetime is a date
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc)
        return value.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.replace(tzinfo=None).isoformat(timespec="microseconds")
    if isinstance(value, dt.timedelta):
        return f"{value.total_seconds()}s"
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): normalise(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [normalise(v) for v in value]
    if hasattr(value, "item"):  # numpy scalars
        return normalise(value.item())
    return str(value)


def sort_key(row: dict[str, Any], columns: list[str]) -> list[tuple[int, Any]]:
    """Nulls first, then numbers by value, then everything else by its JSON text."""
    key: list[tuple[int, Any]] = []
    for column in columns:
        value = row.get(column)
        if value is None:
            key.append((0, 0))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            key.append((1, decimal.Decimal(value)))
        else:
            key.append((2, json.dumps(value, sort_keys=True, ensure_ascii=False)))
    return key


def document(rows: list[dict[str, Any]], columns: list[str], types: list[str], reader: str, version: str,
             files: int | None = None) -> dict[str, Any]:
    normalised = [{column: normalise(row.get(column)) for column in columns} for row in rows]
    normalised.sort(key=lambda row: sort_key(row, columns))
    doc: dict[str, Any] = {"rows": normalised, "columns": columns, "types": types, "reader": reader,
                           "version": version}
    if files is not None:
        doc["files"] = files
    return doc


def arrow_document(table: Any, reader: str, version: str, files: int | None = None) -> dict[str, Any]:
    return document(
        table.to_pylist(maps_as_pydicts="lossy"),
        list(table.column_names),
        [str(field.type) for field in table.schema],
        reader,
        version,
        files,
    )


def duckdb_document(relation_sql: str, parameters: list[Any], files: int) -> dict[str, Any]:
    import duckdb

    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        cursor = con.execute(f"SELECT * FROM {relation_sql}", parameters)
        columns = [d[0] for d in cursor.description]
        types = [str(d[1]) for d in cursor.description]
        rows = [dict(zip(columns, values)) for values in cursor.fetchall()]
    finally:
        con.close()
    return document(rows, columns, types, "duckdb", duckdb.__version__, files)


# --- formats -------------------------------------------------------------------------------------


def read_parquet(location: Location, reader: str) -> dict[str, Any]:
    if reader == "pyarrow":
        import pyarrow
        import pyarrow.dataset as ds

        files = location.files()
        if not files:
            return document([], [], [], "pyarrow", pyarrow.__version__, 0)
        dataset = ds.dataset(location.root, format="parquet", partitioning="hive",
                             filesystem=location.filesystem())
        return arrow_document(dataset.to_table(), "pyarrow", pyarrow.__version__, len(dataset.files))
    with LocalCopy(location) as files:
        if not files:
            import duckdb

            return document([], [], [], "duckdb", duckdb.__version__, 0)
        return duckdb_document("read_parquet(?, hive_partitioning = true)", [files], len(files))


def is_json_file(relative: str) -> bool:
    name = relative.rsplit("/", 1)[-1].lower()
    for suffix in COMPRESSIONS:
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    return name.endswith(JSON_SUFFIXES)


def read_json(location: Location, reader: str) -> dict[str, Any]:
    if reader == "duckdb":
        with LocalCopy(location, is_json_file) as files:
            if not files:
                import duckdb

                return document([], [], [], "duckdb", duckdb.__version__, 0)
            return duckdb_document(
                "read_json_auto(?, format = 'newline_delimited', hive_partitioning = true)", [files], len(files)
            )
    import pyarrow as pa

    files = location.files(is_json_file)
    partitions = hive_typed([hive_raw(relative) for _, relative in files])
    rows: list[dict[str, Any]] = []
    columns: list[str] = []
    for (path, relative), partition in zip(files, partitions):
        compression = next((c for s, c in COMPRESSIONS.items() if relative.lower().endswith(s)), None)
        with location.open(path) as raw:
            data = raw.read()
        if compression == "gzip":
            data = gzip.decompress(data)
        elif compression == "zstd":
            data = pa.CompressedInputStream(pa.BufferReader(data), "zstd").read()
        for number, line in enumerate(io.StringIO(data.decode("utf-8")), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise CannotRead(f"{relative} line {number}: invalid JSON: {error}") from error
            if not isinstance(record, dict):
                raise CannotRead(f"{relative} line {number}: not a JSON object")
            for key, value in partition.items():
                record.setdefault(key, value)
            for key in record:
                if key not in columns:
                    columns.append(key)
            rows.append(record)
    return document(rows, columns, ["json"] * len(columns), "python", f"python {sys.version.split()[0]}",
                    len(files))


def read_avro(location: Location, reader: str) -> dict[str, Any]:
    import fastavro

    files = location.files(lambda relative: relative.lower().endswith(".avro"))
    partitions = hive_typed([hive_raw(relative) for _, relative in files])
    rows: list[dict[str, Any]] = []
    columns: list[str] = []
    types: dict[str, str] = {}
    for (path, relative), partition in zip(files, partitions):
        with location.open(path) as raw:
            data = io.BytesIO(raw.read())
        avro = fastavro.reader(data)
        schema = avro.writer_schema if isinstance(avro.writer_schema, dict) else {}
        for field in schema.get("fields", []):
            if field["name"] not in columns:
                columns.append(field["name"])
                types[field["name"]] = json.dumps(field["type"], sort_keys=True)
        for key, value in partition.items():
            if key not in columns:
                columns.append(key)
                types[key] = "long" if isinstance(value, int) else "string"
        for record in avro:
            if not isinstance(record, dict):
                raise CannotRead(f"{relative}: the records are not Avro records but {type(record).__name__}")
            row = dict(record)
            for key, value in partition.items():
                row.setdefault(key, value)
            rows.append(row)
    return document(rows, columns, [types[c] for c in columns], "fastavro", fastavro.__version__, len(files))


def read_delta(location: Location, reader: str) -> dict[str, Any]:
    import deltalake

    storage_options: dict[str, str] = {}
    if location.is_s3:
        s3 = s3_settings()
        storage_options = {"AWS_REGION": str(s3["region"]), "AWS_S3_ALLOW_UNSAFE_RENAME": "true"}
        if s3["endpoint"]:
            storage_options["AWS_ENDPOINT_URL"] = str(s3["endpoint"])
            if str(s3["endpoint"]).startswith("http://"):
                storage_options["AWS_ALLOW_HTTP"] = "true"
        for option, name in (("AWS_ACCESS_KEY_ID", "access_key"), ("AWS_SECRET_ACCESS_KEY", "secret_key"),
                             ("AWS_SESSION_TOKEN", "session_token")):
            if s3[name]:
                storage_options[option] = str(s3[name])
    elif not os.path.isdir(os.path.join(location.root, "_delta_log")):
        raise CannotRead(f"{location.root} is not a Delta table (no _delta_log folder)")
    table = deltalake.DeltaTable(location.uri, storage_options=storage_options)
    doc = arrow_document(table.to_pyarrow_table(), "deltalake", deltalake.__version__, len(table.file_uris()))
    protocol = table.protocol()
    metadata = table.metadata()
    doc["delta"] = {
        "version": table.version(),
        "protocol": {
            "minReaderVersion": protocol.min_reader_version,
            "minWriterVersion": protocol.min_writer_version,
            "readerFeatures": protocol.reader_features,
            "writerFeatures": protocol.writer_features,
        },
        "metadata": {
            "id": metadata.id,
            "name": metadata.name,
            "description": metadata.description,
            "partitionColumns": list(metadata.partition_columns),
            "createdTime": metadata.created_time,
            "configuration": dict(metadata.configuration),
        },
        "schema": json.loads(table.schema().to_json()),
    }
    return doc


FORMATS = {"parquet": read_parquet, "json": read_json, "avro": read_avro, "delta": read_delta}


def main(argv: list[str]) -> int:
    parser = ArgumentParser(prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--format", required=True, choices=list(FORMATS))
    parser.add_argument("--path", required=True, help="local path, file:// URL or s3://bucket/prefix")
    parser.add_argument("--reader", choices=sorted({r for rs in READERS.values() for r in rs}))
    args = parser.parse_args(argv)
    reader = args.reader or READERS[args.format][0]
    if reader not in READERS[args.format]:
        bad_arguments(f"--reader {reader} cannot read {args.format} (use one of: {', '.join(READERS[args.format])})")
    if not args.path:
        bad_arguments("--path is empty")
    location = Location(args.path)
    if location.is_s3 and s3_settings()["endpoint"]:
        # An S3-compatible test server: never wait for the EC2 metadata service for credentials.
        os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    try:
        doc = FORMATS[args.format](location, reader)
    except CannotRead as error:
        return fail(args, reader, str(error))
    except Exception as error:  # any library error: the table cannot be read
        return fail(args, reader, f"{type(error).__name__}: {error}")
    sys.stdout.write(json.dumps(doc, ensure_ascii=False, allow_nan=False))
    sys.stdout.write("\n")
    return 0


def fail(args: argparse.Namespace, reader: str, reason: str) -> int:
    reason = " ".join(reason.split())  # one line
    print(f"{PROG}: cannot read {args.path} as {args.format} with {reader}: {reason}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    status = main(sys.argv[1:])
    # Leave without interpreter teardown: deltalake (Rust runtime threads) together with pyarrow
    # sometimes aborts at exit ("terminate called without an active exception", status 134) after
    # all output is written.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
