# Sourced by scripts: a private PostgreSQL cluster in a folder, on a loopback port.
#   pg_start DIR PORT   (DIR's parents must be enterable by the postgres user) creates the cluster in DIR/data if it is not there (installing
#                       PostgreSQL when missing), starts it and sets PG_URL
#   pg_stop DIR         stops it (the data stays)
# initdb refuses to run as root, so as root the cluster is made and run by `postgres`.

pg_bin() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$bin" ]; then
    echo "==> installing postgresql" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  fi
  echo "$bin"
}

pg_as() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_start() {
  local dir=$1 port=$2 bin
  bin=$(pg_bin)
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    pg_as "$bin/initdb" -D "$dir/data" -A trust -U postgres >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; return 1; }
  fi
  echo "==> starting PostgreSQL ($("$bin/postgres" --version)) on 127.0.0.1:$port"
  pg_as "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -o \
    "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null \
    || { cat "$dir/server.log" >&2; return 1; }
  PG_URL="postgres://postgres@127.0.0.1:$port/postgres"
}

pg_stop() {
  pg_as "$(pg_bin)/pg_ctl" -D "$1/data" -m fast stop >/dev/null 2>&1 || true
}
