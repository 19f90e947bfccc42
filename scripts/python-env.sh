#!/usr/bin/env bash
# The Python tools the tests use, in a private venv at <repo>/.services/venv:
#   - moto[server]: an S3-compatible server (scripts/s3-server.sh)
#   - deltalake, pyarrow, fastavro, duckdb, pandas: independent lake readers
#     (test/readers/read_lake.py)
# Idempotent: does nothing when the venv already has everything. Records the
# installed versions in .services/venv/versions.txt.
#
# Usage: scripts/python-env.sh   (prints one progress line when it installs)
# CF_PYTHON picks the base interpreter (default: python3 on PATH, else
# /usr/bin/python3); PYTHON_ENV_TIMEOUT (default 900s) bounds the install.
set -euo pipefail

ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
# shellcheck source=scripts/lib/venv.sh
source "$ROOT/scripts/lib/venv.sh"

# moto answers PutObject with If-None-Match: * by 412 when the key exists (conditional
# writes, which the S3 store's putIfAbsent relies on); verified with moto 5.2.5.
REQUIREMENTS=('moto[server]>=5.2' deltalake pyarrow fastavro cramjam 'backports.zstd' duckdb pandas)
IMPORTS='import moto, moto.server, flask, deltalake, pyarrow, pyarrow.dataset, pyarrow.fs, fastavro, cramjam, backports.zstd, duckdb, pandas'

ensure_venv python-env "$ROOT/.services/venv" "${PYTHON_ENV_TIMEOUT:-900}" "$IMPORTS" "${REQUIREMENTS[@]}"
