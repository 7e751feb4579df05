#!/usr/bin/env bash
# Builds pgvector for the local PostgreSQL when it is missing. Debian bookworm ships no
# postgresql-15-pgvector, so we build Debian trixie's source package against bookworm's server headers.
set -euo pipefail

PG_MAJOR=$(ls /etc/postgresql | sort -n | tail -n 1)
EXT_DIR=$(/usr/lib/postgresql/"$PG_MAJOR"/bin/pg_config --sharedir)/extension
if [ -f "$EXT_DIR/vector.control" ]; then
  echo "pgvector already installed for PostgreSQL $PG_MAJOR"
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
SRC_LIST=/etc/apt/sources.list.d/trixie-src.sources
if [ ! -f "$SRC_LIST" ]; then
  cat > "$SRC_LIST" <<SRC
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "postgresql-server-dev-$PG_MAJOR" build-essential dpkg-dev >/dev/null

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
apt-get source -qq --download-only pgvector/trixie >/dev/null 2>&1
dpkg-source -x --no-check ./pgvector_*.dsc src >/dev/null
cd src
make -s PG_CONFIG=/usr/lib/postgresql/"$PG_MAJOR"/bin/pg_config OPTFLAGS="" >/dev/null
make -s PG_CONFIG=/usr/lib/postgresql/"$PG_MAJOR"/bin/pg_config install >/dev/null
echo "pgvector $(grep default_version "$EXT_DIR/vector.control" | cut -d"'" -f2) installed for PostgreSQL $PG_MAJOR"
