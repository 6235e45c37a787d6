#!/bin/sh
# Entrypoint of Berth's test Postgres image (dev.berth.testing.PostgresImage), run by busybox sh.
#
# Environment, as the official image reads it: POSTGRES_USER (default postgres), POSTGRES_PASSWORD
# (required unless POSTGRES_HOST_AUTH_METHOD=trust), POSTGRES_DB (default: the user),
# POSTGRES_HOST_AUTH_METHOD (the method of TCP connections from any address; default scram-sha-256).
#
# The image carries a cluster that initdb made at build time; $PGDATA/berth-init records whose user,
# database, password and method it has. When the environment asks for others they are applied to that
# cluster in single-user mode (rename the bootstrap superuser and the database, set the password), which
# takes a fraction of a second where a new initdb takes seconds. Then postgres runs in the foreground.
set -eu

case "${1:-}" in
  -*) set -- postgres "$@" ;;
esac
if [ "${1:-}" != postgres ]; then
  exec "$@"
fi
if [ "$(id -u)" = 0 ]; then
  echo "berth postgres image: run as the image's user postgres (uid $(id -u postgres)), not root" >&2
  exit 1
fi

user=${POSTGRES_USER:-postgres}
db=${POSTGRES_DB:-$user}
auth=${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}
password=${POSTGRES_PASSWORD:-}
if [ -z "$password" ] && [ "$auth" != trust ]; then
  echo "berth postgres image: POSTGRES_PASSWORD is not set; set it, or POSTGRES_HOST_AUTH_METHOD=trust" >&2
  exit 1
fi
password_hash=$(printf '%s' "$password" | sha256sum | cut -d' ' -f1)
stamp="$PGDATA/berth-init"

# line N of the stamp: 1 user, 2 database, 3 sha256 of the password, 4 method
current() { sed -n "$1p" "$stamp"; }
literal() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/''/g")"; }
ident() { printf '"%s"' "$(printf '%s' "$1" | sed 's/"/""/g')"; }

if [ "$(current 1)" != "$user" ] || [ "$(current 2)" != "$db" ] || [ "$(current 3)" != "$password_hash" ]; then
  old_user=$(current 1)
  old_db=$(current 2)
  sql=""
  if [ "$old_user" != "$user" ]; then
    # the bootstrap superuser (oid 10) cannot rename itself, and single-user mode runs as it
    sql="$sql UPDATE pg_authid SET rolname = $(literal "$user") WHERE oid = 10;

"
  fi
  if [ -n "$password" ]; then
    sql="$sql ALTER ROLE $(ident "$user") PASSWORD $(literal "$password");

"
  else
    sql="$sql ALTER ROLE $(ident "$user") PASSWORD NULL;

"
  fi
  if [ "$old_db" != "$db" ]; then
    case "$db/$old_db" in
      postgres/postgres|postgres/template[01]|template[01]/postgres|template[01]/template[01]) ;;
      postgres/*|template[01]/*) sql="$sql DROP DATABASE $(ident "$old_db");

" ;;
      */postgres|*/template[01]) sql="$sql CREATE DATABASE $(ident "$db") OWNER $(ident "$user");

" ;;
      *) sql="$sql ALTER DATABASE $(ident "$old_db") RENAME TO $(ident "$db");

" ;;
    esac
  fi
  out=$(printf '%s' "$sql" | postgres --single -j -D "$PGDATA" -c fsync=off -c log_min_messages=warning postgres 2>&1) || {
    printf '%s\n' "$out" >&2
    exit 1
  }
  case "$out" in
    *ERROR:*|*FATAL:*) printf 'berth postgres image: applying the environment failed:\n%s\n' "$out" >&2; exit 1 ;;
  esac
fi
if [ "$(current 4)" != "$auth" ]; then
  sed -i "s/^host all all all .*/host all all all $auth/" "$PGDATA/pg_hba.conf"
fi
printf '%s\n%s\n%s\n%s\n' "$user" "$db" "$password_hash" "$auth" > "$stamp"

exec "$@"
