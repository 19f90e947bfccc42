#!/usr/bin/env bash
# The Python side of `npm run bench -- pg`: dlt (https://dlthub.com) with its pyarrow backend, in a
# private venv at <repo>/.services/bench-venv, so the bench can run the same PostgreSQL → parquet
# load through dlt (bench/dlt/dlt_load.py) and print our ratio to it.
#   - dlt[parquet,filesystem,sql_database]: the pipeline, its parquet writer, the filesystem
#     destination and the sql_database/sql_table source
#   - sqlalchemy 2.0.x + psycopg2-binary: what sql_table reads PostgreSQL through. Not 2.1: there
#     Float no longer derives from Numeric, and dlt 1.31 then cannot map `double precision`
#     (it warns and infers the type from the data); 2.1 also maps a bare postgresql:// to psycopg 3.
#   - pyarrow + numpy: the sql_table backend="pyarrow" turns the fetched rows into Arrow tables
# (connectorx is not needed: it is only for backend="connectorx", which the bench does not use.)
# Idempotent: does nothing when the venv already has everything. Records the installed versions
# in .services/bench-venv/versions.txt.
#
# Usage: scripts/bench-python-env.sh   (prints one progress line when it installs; exits non-zero
# with one line on stderr when dlt cannot be installed here)
# CF_PYTHON picks the base interpreter (default: python3 on PATH, else /usr/bin/python3);
# BENCH_PYTHON_ENV_TIMEOUT (default 900s) bounds the install.
set -euo pipefail

ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
# shellcheck source=scripts/lib/venv.sh
source "$ROOT/scripts/lib/venv.sh"

REQUIREMENTS=('dlt[parquet,filesystem,sql_database]>=1.0' 'sqlalchemy>=2.0,<2.1' 'psycopg2-binary' pyarrow numpy)
IMPORTS='import dlt, dlt.sources.sql_database, dlt.destinations, sqlalchemy, psycopg2, pyarrow, pyarrow.parquet, numpy'

ensure_venv bench-python-env "$ROOT/.services/bench-venv" "${BENCH_PYTHON_ENV_TIMEOUT:-900}" "$IMPORTS" "${REQUIREMENTS[@]}"
