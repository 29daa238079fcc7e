# shellcheck shell=bash
# Docker Engine (Debian's docker.io) on a private socket inside the state directory.
#
# --bridge=none --iptables=false: no network plumbing on the host; RUN steps in builds have
# no network at all, pushes go from the daemon over loopback. Debian's daemon is 20.10
# (API 1.41); the preinstalled Docker 28 client negotiates the API version down by itself.

DOCKER_DIR="$STATE_DIR/docker"

docker_cmd() { DOCKER_HOST="$DOCKER_HOST_URL" DOCKER_CONFIG="$DOCKER_DIR/client-config" docker "$@"; }
docker_ready() { docker_cmd info >/dev/null 2>&1; }

start_docker() {
  command -v docker >/dev/null || die "no docker client on PATH"
  mkdir -p "$DOCKER_DIR/data" "$DOCKER_DIR/exec" "$DOCKER_DIR/client-config"
  pid_alive dockerd || rm -f "$DOCKER_SOCK"
  start_daemon dockerd docker_ready 60 \
    dockerd \
    --host "$DOCKER_HOST_URL" \
    --data-root "$DOCKER_DIR/data" \
    --exec-root "$DOCKER_DIR/exec" \
    --pidfile "$DOCKER_DIR/dockerd.pid" \
    --bridge=none --iptables=false --ip-masq=false
}
