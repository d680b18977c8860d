#!/usr/bin/env bash
# Install and start PostgreSQL 15 + pgvector on Debian 12 (bookworm) for Clockface tests.
# Idempotent: safe to re-run; the second run only checks things and is fast.
# Usage:  eval "$(sudo bash scripts/install-postgres.sh)"
set -euo pipefail

PG_MAJOR=15
PG_CLUSTER=main
PG_PORT=5432
PG_HOST=127.0.0.1
PG_CONFIG="/usr/lib/postgresql/${PG_MAJOR}/bin/pg_config"
VECTOR_CONTROL="/usr/share/postgresql/${PG_MAJOR}/extension/vector.control"
MIN_VECTOR_VERSION=0.8
TRIXIE_SRC_FILE=/etc/apt/sources.list.d/clockface-trixie-src.sources
PGTEST_USER="${PGTEST_USER:-postgres}"
PGTEST_PASSWORD="${PGTEST_PASSWORD:-clockface}"

usage() {
  cat <<EOF
Usage: bash scripts/install-postgres.sh [--help]

Sets up a local PostgreSQL ${PG_MAJOR} with pgvector for Clockface tests (Debian 12, run as root):
  1. apt-installs postgresql-${PG_MAJOR}, postgresql-client-${PG_MAJOR}, postgresql-server-dev-${PG_MAJOR},
     build-essential, dpkg-dev, libblas3, liblapack3 (only those not yet installed).
  2. Builds pgvector (>= ${MIN_VECTOR_VERSION}) from Debian trixie's source package 'pgvector'
     (adds a deb-src-only trixie entry in ${TRIXIE_SRC_FILE}, reusing the configured
     Debian mirror), unless ${VECTOR_CONTROL} already has version >= ${MIN_VECTOR_VERSION}.
  3. Ensures cluster "${PG_MAJOR} ${PG_CLUSTER}" exists and is running on ${PG_HOST}:${PG_PORT}.
  4. Sets the password of superuser \$PGTEST_USER (default: postgres) to \$PGTEST_PASSWORD
     (default: clockface); creates the role if needed. Auth stays scram-sha-256.
  5. Verifies over TCP: CREATE EXTENSION vector + an HNSW index in a scratch database.

All progress output goes to stderr. The last line on stdout is
  export CLOCKFACE_TEST_DATABASE_URL=postgres://USER:PASSWORD@${PG_HOST}:${PG_PORT}/postgres
so you can run:  eval "\$(bash scripts/install-postgres.sh)"
EOF
}

case "${1:-}" in
  -h|--help) usage; exit 0 ;;
  "") ;;
  *) echo "unknown argument: $1 (try --help)" >&2; exit 2 ;;
esac

# Keep fd 3 as the real stdout for the final export line; everything else -> stderr.
exec 3>&1 1>&2

log() { echo "[install-postgres] $*" >&2; }
die() { echo "[install-postgres] ERROR: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root"
[ -r /etc/debian_version ] || die "this script targets Debian 12"

export DEBIAN_FRONTEND=noninteractive

APT_UPDATED=0
apt_update() {
  if [ "$APT_UPDATED" -eq 0 ]; then
    log "apt-get update"
    apt-get update -q
    APT_UPDATED=1
  fi
}

is_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'
}

# ---------------------------------------------------------------- pgvector helpers
vector_version() {
  [ -f "$VECTOR_CONTROL" ] || return 0
  sed -n "s/^[[:space:]]*default_version[[:space:]]*=[[:space:]]*'\([^']*\)'.*/\1/p" "$VECTOR_CONTROL" | head -n1
}

# Find the Debian mirror URI used for the main bookworm suite (deb822 or one-line format).
detect_debian_mirror() {
  local f uri
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    uri=$(awk '
      BEGIN { RS=""; FS="\n" }
      {
        types=""; uris=""; suites=""
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^[[:space:]]*#/) continue
          if ($i ~ /^Types:/)  { types=$i;  sub(/^Types:[[:space:]]*/, "", types) }
          if ($i ~ /^URIs:/)   { uris=$i;   sub(/^URIs:[[:space:]]*/, "", uris) }
          if ($i ~ /^Suites:/) { suites=$i; sub(/^Suites:[[:space:]]*/, "", suites) }
        }
        if (types ~ /(^|[[:space:]])deb($|[[:space:]])/ && (" " suites " ") ~ / bookworm /) {
          split(uris, u, /[[:space:]]+/); print u[1]; exit
        }
      }' "$f")
    if [ -n "$uri" ]; then echo "$uri"; return 0; fi
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    uri=$(awk '
      /^[[:space:]]*deb[[:space:]]/ {
        i = 2
        if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
        if ($(i+1) == "bookworm") { print $i; exit }
      }' "$f")
    if [ -n "$uri" ]; then echo "$uri"; return 0; fi
  done
  echo "http://deb.debian.org/debian"
}

ensure_trixie_deb_src() {
  local mirror want_src
  mirror="$(detect_debian_mirror)"
  mirror="${mirror%/}"
  want_src="Types: deb-src
URIs: ${mirror}
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"
  if [ ! -f "$TRIXIE_SRC_FILE" ] || [ "$(cat "$TRIXIE_SRC_FILE")" != "$want_src" ]; then
    log "writing ${TRIXIE_SRC_FILE} (deb-src only, mirror ${mirror})"
    printf '%s\n' "$want_src" >"$TRIXIE_SRC_FILE"
    APT_UPDATED=0
  fi
}

current_vector="$(vector_version)"
NEED_VECTOR_BUILD=1
if [ -n "$current_vector" ] && dpkg --compare-versions "$current_vector" ge "$MIN_VECTOR_VERSION"; then
  NEED_VECTOR_BUILD=0
  log "pgvector ${current_vector} already installed"
else
  # add the deb-src entry before any apt-get update, so one update covers both steps
  ensure_trixie_deb_src
fi

# ---------------------------------------------------------------- 1. packages
PACKAGES=(
  "postgresql-${PG_MAJOR}" "postgresql-client-${PG_MAJOR}" "postgresql-server-dev-${PG_MAJOR}"
  build-essential dpkg-dev libblas3 liblapack3
)
missing=()
for p in "${PACKAGES[@]}"; do
  is_installed "$p" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing: ${missing[*]}"
  apt_update
  apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  log "packages already installed"
fi

# ---------------------------------------------------------------- 2. build pgvector
if [ "$NEED_VECTOR_BUILD" -eq 1 ]; then
  log "pgvector missing or too old (${current_vector:-none}); building from Debian trixie source"
  apt_update

  builddir="$(mktemp -d /tmp/pgvector-build.XXXXXX)"
  chown _apt:root "$builddir" 2>/dev/null || true   # lets apt download as its sandbox user
  trap 'rm -rf "$builddir"' EXIT
  (
    cd "$builddir"
    apt-get source -q pgvector
    srcdir="$(find . -mindepth 1 -maxdepth 1 -type d -name 'pgvector-*' | head -n1)"
    [ -n "$srcdir" ] || die "apt-get source pgvector produced no source directory"
    cd "$srcdir"
    # OPTFLAGS= avoids -march=native (same as Debian's packaging), so the build is portable.
    make -j"$(nproc)" PG_CONFIG="$PG_CONFIG" OPTFLAGS=""
    make install PG_CONFIG="$PG_CONFIG" OPTFLAGS=""
  )
  rm -rf "$builddir"
  trap - EXIT
  current_vector="$(vector_version)"
  [ -n "$current_vector" ] && dpkg --compare-versions "$current_vector" ge "$MIN_VECTOR_VERSION" \
    || die "pgvector install failed (found version '${current_vector:-none}')"
  log "pgvector ${current_vector} installed"
fi

# ---------------------------------------------------------------- 3. cluster
if ! pg_lsclusters -h "$PG_MAJOR" "$PG_CLUSTER" >/dev/null 2>&1 \
   || [ -z "$(pg_lsclusters -h "$PG_MAJOR" "$PG_CLUSTER" 2>/dev/null)" ]; then
  log "creating cluster ${PG_MAJOR} ${PG_CLUSTER} on port ${PG_PORT}"
  pg_createcluster "$PG_MAJOR" "$PG_CLUSTER" --port "$PG_PORT"
fi

read -r _ver _name cluster_port cluster_status _rest < <(pg_lsclusters -h "$PG_MAJOR" "$PG_CLUSTER")
if [ "$cluster_port" != "$PG_PORT" ]; then
  die "cluster ${PG_MAJOR} ${PG_CLUSTER} uses port ${cluster_port}, expected ${PG_PORT}"
fi

if [ "$cluster_status" != "online" ]; then
  log "starting cluster ${PG_MAJOR} ${PG_CLUSTER}"
  # The postmaster outlives this script: it must not inherit fd 3 (our stdout, often a $(...) pipe that would then
  # never reach EOF, hanging the caller) nor the caller's stdout/stderr (a CI log reader waits for EOF on those).
  start_log="$(mktemp)"
  if ! pg_ctlcluster "$PG_MAJOR" "$PG_CLUSTER" start </dev/null >"$start_log" 2>&1 3>&-; then
    cat "$start_log" >&2
    # tolerate "already running" races; anything else shows up in the readiness check
    log "pg_ctlcluster start returned non-zero; checking status"
  fi
else
  log "cluster ${PG_MAJOR} ${PG_CLUSTER} already running"
  # A package upgrade (step 1 above, or any apt run since the cluster started) replaces the server binary under a
  # running postmaster. The old postmaster keeps running, but every new backend then loads the new plpgsql library
  # into the old binary and fails ("undefined symbol: ..."). Linux shows the replaced binary as "(deleted)".
  data_dir="$(pg_lsclusters -h "$PG_MAJOR" "$PG_CLUSTER" | awk '{print $6}')"
  postmaster_pid="$(head -n1 "${data_dir}/postmaster.pid" 2>/dev/null || true)"
  if [ -n "$postmaster_pid" ] && readlink "/proc/${postmaster_pid}/exe" 2>/dev/null | grep -q ' (deleted)$'; then
    log "the running server predates an upgrade of its package; restarting cluster ${PG_MAJOR} ${PG_CLUSTER}"
    restart_log="$(mktemp)"
    pg_ctlcluster "$PG_MAJOR" "$PG_CLUSTER" restart </dev/null >"$restart_log" 2>&1 3>&- \
      || { cat "$restart_log" >&2; die "could not restart cluster ${PG_MAJOR} ${PG_CLUSTER} after its package was upgraded"; }
  fi
fi

for _ in $(seq 1 30); do
  if pg_isready -q -h "$PG_HOST" -p "$PG_PORT"; then break; fi
  sleep 1
done
pg_isready -q -h "$PG_HOST" -p "$PG_PORT" \
  || die "PostgreSQL is not accepting TCP connections on ${PG_HOST}:${PG_PORT} (see /var/log/postgresql/postgresql-${PG_MAJOR}-${PG_CLUSTER}.log)"

# ---------------------------------------------------------------- 4. password
log "ensuring superuser role '${PGTEST_USER}' with the test password"
runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -p "$PG_PORT" -d postgres \
  -v u="$PGTEST_USER" -v pw="$PGTEST_PASSWORD" <<'SQL'
SET log_statement = 'none';
SELECT format('CREATE ROLE %I', :'u')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'u') \gexec
ALTER ROLE :"u" WITH SUPERUSER LOGIN PASSWORD :'pw';
SQL

# ---------------------------------------------------------------- 5. verify
urlencode() {
  local s="$1" out="" c i
  local LC_ALL=C
  for ((i = 0; i < ${#s}; i++)); do
    c="${s:i:1}"
    case "$c" in
      [a-zA-Z0-9.~_-]) out+="$c" ;;
      *) out+="$(printf '%%%02X' "'$c")" ;;
    esac
  done
  printf '%s' "$out"
}

base_url="postgres://$(urlencode "$PGTEST_USER"):$(urlencode "$PGTEST_PASSWORD")@${PG_HOST}:${PG_PORT}"
url="${base_url}/postgres"
scratch_db="clockface_install_check"

export PGCONNECT_TIMEOUT=10
export PGOPTIONS="-c client_min_messages=warning"
psql_url() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

log "verifying TCP login + pgvector in scratch database ${scratch_db}"
psql_url "$url" -c "DROP DATABASE IF EXISTS ${scratch_db}" -c "CREATE DATABASE ${scratch_db}"
trap 'psql -X -q "$url" -c "DROP DATABASE IF EXISTS ${scratch_db}" >/dev/null 2>&1 || true' EXIT
psql_url -At "${base_url}/${scratch_db}" <<'SQL'
CREATE EXTENSION IF NOT EXISTS vector;
CREATE TABLE items (id bigserial PRIMARY KEY, embedding vector(3));
INSERT INTO items (embedding) VALUES ('[1,2,3]'), ('[4,5,6]'), ('[1,1,1]');
CREATE INDEX items_embedding_hnsw ON items USING hnsw (embedding vector_l2_ops);
SELECT 'pgvector ' || extversion || ' OK, nearest id=' ||
       (SELECT id FROM items ORDER BY embedding <-> '[1,1,2]' LIMIT 1)
  FROM pg_extension WHERE extname = 'vector';
SQL
psql_url "$url" -c "DROP DATABASE ${scratch_db}"
trap - EXIT

log "done: PostgreSQL ${PG_MAJOR} running on ${PG_HOST}:${PG_PORT} with pgvector ${current_vector}"
echo "export CLOCKFACE_TEST_DATABASE_URL=${url}" >&3
