# shellcheck shell=bash
# Docker Engine (Debian's docker.io) on a private socket inside the state directory.
#
# --bridge=none --iptables=false: no network namespace plumbing on the host; RUN steps in
# builds therefore have no network at all, pushes go from the daemon over loopback.
# Debian's daemon is 20.10 (API 1.41); the preinstalled client negotiates the API version down.

DOCKER_DIR="$STATE_DIR/docker"

docker_cmd() { DOCKER_HOST="$DOCKER_HOST_URL" DOCKER_CONFIG="$DOCKER_DIR/client-config" docker "$@"; }
docker_ready() { pid_alive dockerd && docker_cmd info >/dev/null 2>&1; }

start_docker() {
  if docker_ready; then return 0; fi
  if pid_alive dockerd; then
    # Started by us earlier but not answering yet (or any more): give it a moment.
    wait_for 30 "dockerd" docker_ready && return 0
    show_log_tail "$STATE_DIR/logs/dockerd.log"
    die "dockerd (pid $(cat "$STATE_DIR/run/dockerd.pid")) is running but does not answer on $DOCKER_SOCK"
  fi
  command -v docker >/dev/null || die "no docker client on PATH"
  mkdir -p "$DOCKER_DIR/data" "$DOCKER_DIR/exec" "$DOCKER_DIR/client-config" "$STATE_DIR/run" "$STATE_DIR/logs"
  rm -f "$DOCKER_SOCK"
  log "starting dockerd ($DOCKER_SOCK)"
  # setsid: own session, so the daemon survives the shell that ran `up`.
  setsid dockerd \
    --host "$DOCKER_HOST_URL" \
    --data-root "$DOCKER_DIR/data" \
    --exec-root "$DOCKER_DIR/exec" \
    --pidfile "$DOCKER_DIR/dockerd.pid" \
    --bridge=none --iptables=false --ip-masq=false \
    </dev/null >>"$STATE_DIR/logs/dockerd.log" 2>&1 &
  echo $! >"$STATE_DIR/run/dockerd.pid"
  if ! wait_for 60 "dockerd" docker_ready; then
    show_log_tail "$STATE_DIR/logs/dockerd.log"
    die "dockerd did not start"
  fi
}
