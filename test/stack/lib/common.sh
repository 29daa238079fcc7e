# shellcheck shell=bash disable=SC2034  # variables are used by the scripts that source this file
# Shared settings for the test stack scripts (sourced, not executed).
#
# Everything the stack creates at run time lives in ONE state directory outside the
# repository; compiled binaries live in a per-version cache directory so that only the
# first start on a machine pays for the Go build.

STACK_LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STACK_DIR="$(cd "$STACK_LIB_DIR/.." && pwd)"

# Pinned versions. k8s.io/kubernetes v1.35.x declares `go 1.25.0`; kwok v0.7.0 `go 1.24.0`:
# both build with the local Go 1.26 toolchain (GOTOOLCHAIN=local, nothing is downloaded).
KUBE_VERSION="${SHOPSYS_CI_STACK_KUBE_VERSION:-v1.35.4}"
KWOK_VERSION="${SHOPSYS_CI_STACK_KWOK_VERSION:-v0.7.0}"
# docker buildx (the CLI plugin for BuildKit): Debian has none for the preinstalled Docker 28 client,
# so the tests of the BuildKit path build it; the daemon's own BuildKit does the building.
BUILDX_VERSION="${SHOPSYS_CI_STACK_BUILDX_VERSION:-v0.38.2}"

STATE_DIR="${SHOPSYS_CI_STACK_DIR:-$HOME/.local/state/shopsys-kube-ci/stack}"
CACHE_ROOT="${SHOPSYS_CI_STACK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/shopsys-kube-ci}"
KUBE_BIN_DIR="$CACHE_ROOT/kube-$KUBE_VERSION"
KWOK_BIN_DIR="$CACHE_ROOT/kwok-$KWOK_VERSION"
BUILDX_BIN_DIR="$CACHE_ROOT/buildx-$BUILDX_VERSION"

# Ports (all on 127.0.0.1). Chosen away from the usual defaults so that the stack does not
# collide with a developer's own registry/cluster; each one can be overridden.
REGISTRY_PORT="${SHOPSYS_CI_STACK_REGISTRY_PORT:-35000}"
APISERVER_PORT="${SHOPSYS_CI_STACK_APISERVER_PORT:-36443}"
ETCD_PORT="${SHOPSYS_CI_STACK_ETCD_PORT:-32379}"
ETCD_PEER_PORT="${SHOPSYS_CI_STACK_ETCD_PEER_PORT:-32380}"
KCM_PORT="${SHOPSYS_CI_STACK_KCM_PORT:-36257}"
SCHEDULER_PORT="${SHOPSYS_CI_STACK_SCHEDULER_PORT:-36259}"
KWOK_PORT="${SHOPSYS_CI_STACK_KWOK_PORT:-36080}"
REGISTRY_USER="${SHOPSYS_CI_STACK_REGISTRY_USER:-shopsys-ci}"
KWOK_NODES="${SHOPSYS_CI_STACK_NODES:-2}"

# dockerd uses its own socket and data root inside the state directory, so it never touches
# a system-wide Docker installation.
DOCKER_SOCK="$STATE_DIR/docker/docker.sock"
DOCKER_HOST_URL="unix://$DOCKER_SOCK"

# Ports each component listens on (checked before it starts).
declare -A STACK_PORTS=(
  [registry]="$REGISTRY_PORT"
  [etcd]="$ETCD_PORT $ETCD_PEER_PORT"
  [kube-apiserver]="$APISERVER_PORT"
  [kube-controller-manager]="$KCM_PORT"
  [kube-scheduler]="$SCHEDULER_PORT"
  [kwok]="$KWOK_PORT"
)

# HTTP health probe of a local component (loopback only; never through a proxy).
probe() { curl --noproxy '*' --silent --fail --max-time 5 "$@"; }

# The variable that moves each component's port.
declare -A STACK_PORT_VARS=(
  [registry]=SHOPSYS_CI_STACK_REGISTRY_PORT
  [etcd]="SHOPSYS_CI_STACK_ETCD_PORT / SHOPSYS_CI_STACK_ETCD_PEER_PORT"
  [kube-apiserver]=SHOPSYS_CI_STACK_APISERVER_PORT
  [kube-controller-manager]=SHOPSYS_CI_STACK_KCM_PORT
  [kube-scheduler]=SHOPSYS_CI_STACK_SCHEDULER_PORT
  [kwok]=SHOPSYS_CI_STACK_KWOK_PORT
)

port_busy() { [[ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]]; }

log() { printf '[stack] %s\n' "$*" >&2; }
die() { printf '[stack] ERROR: %s\n' "$*" >&2; exit 1; }

# Print the last lines of a component's log (used when something fails to start).
show_log_tail() {
  local file="$1" lines="${2:-40}"
  if [[ -f "$file" ]]; then
    printf '[stack] ---- last %s lines of %s ----\n' "$lines" "$file" >&2
    tail -n "$lines" "$file" >&2
    printf '[stack] ---- end of %s ----\n' "$file" >&2
  else
    printf '[stack] (no log file %s)\n' "$file" >&2
  fi
}

# Start time of a process (clock ticks since boot, field 22 of /proc/PID/stat): together with
# the PID it identifies the process, so a PID reused after a reboot is never mistaken for ours.
proc_start_time() {
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }" # drop "pid (comm) ", comm may contain spaces
  # shellcheck disable=SC2086
  set -- $stat
  echo "${20}"
}

# record_pid NAME PID: write "PID STARTTIME" to STATE_DIR/run/NAME.pid.
record_pid() {
  echo "$2 $(proc_start_time "$2" || echo unknown)" >"$STATE_DIR/run/$1.pid"
}

# daemon_pid NAME: print the PID recorded for NAME if that process is still the one we started.
daemon_pid() {
  local pidfile="$STATE_DIR/run/$1.pid" pid start
  [[ -f "$pidfile" ]] || return 1
  read -r pid start <"$pidfile" || true
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  if [[ -n "$start" && "$start" != unknown && "$(proc_start_time "$pid")" != "$start" ]]; then
    return 1 # the PID now belongs to another process
  fi
  echo "$pid"
}

# pid_alive NAME: true if STATE_DIR/run/NAME.pid names a live process started by us.
pid_alive() { daemon_pid "$1" >/dev/null; }

# wait_for SECONDS DESCRIPTION COMMAND...: poll COMMAND every 0.2 s until it succeeds.
wait_for() {
  local timeout="$1" what="$2"; shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      log "timed out after ${timeout}s waiting for $what"
      return 1
    fi
    sleep 0.2
  done
}

# Go build environment: never fetch a toolchain, take modules only from the configured proxy.
go_env() {
  export GOTOOLCHAIN=local
  export GOFLAGS="${GOFLAGS:--buildvcs=false}"
  command -v go >/dev/null || die "go is not installed (needed to build Kubernetes $KUBE_VERSION and kwok $KWOK_VERSION)"
}

# start_daemon NAME READY_FN TIMEOUT COMMAND...: start COMMAND in its own session (setsid),
# log to STATE_DIR/logs/NAME.log, record its PID in STATE_DIR/run/NAME.pid, and wait until
# READY_FN succeeds. Does nothing when the component is already running and ready.
# On failure prints the tail of the component's own log and exits.
start_daemon() {
  local name="$1" ready="$2" timeout="$3"; shift 3
  local logfile="$STATE_DIR/logs/$name.log"
  if pid_alive "$name"; then
    "$ready" >/dev/null 2>&1 && return 0
    # Started earlier by us but not answering (yet): give it the usual time.
    wait_ready "$name" "$ready" "$timeout" && return 0
    show_log_tail "$logfile"
    die "$name (pid $(daemon_pid "$name")) is running but not ready; see $logfile (test/stack/down stops it)"
  fi
  mkdir -p "$STATE_DIR/run" "$STATE_DIR/logs"
  local port
  for port in ${STACK_PORTS[$name]:-}; do
    if port_busy "$port"; then
      die "cannot start $name: 127.0.0.1:$port is already in use by another program; choose another port with ${STACK_PORT_VARS[$name]} (the same for up, env, status and down)"
    fi
  done
  log "starting $name"
  printf '\n==== %s: starting %s ====\n' "$(date -Is)" "$*" >>"$logfile"
  # 9>&-: the daemon must not inherit `up`'s lock file descriptor (it would hold the lock).
  setsid "$@" </dev/null >>"$logfile" 2>&1 9>&- &
  record_pid "$name" $!
  if ! wait_ready "$name" "$ready" "$timeout"; then
    show_log_tail "$logfile"
    die "$name did not become ready"
  fi
}

# wait_ready NAME READY_FN TIMEOUT: poll READY_FN; stop early if the process died.
wait_ready() {
  local name="$1" ready="$2" timeout="$3"
  local deadline=$((SECONDS + timeout))
  until "$ready" >/dev/null 2>&1; do
    if ! pid_alive "$name"; then
      log "$name exited"
      return 1
    fi
    if ((SECONDS >= deadline)); then
      log "timed out after ${timeout}s waiting for $name"
      return 1
    fi
    sleep 0.2
  done
}

# stop_daemons NAME...: SIGTERM the PIDs recorded in STATE_DIR/run/NAME.pid (only processes
# this stack started, never looked up by name), wait up to 20 s for all of them, then SIGKILL
# what is left. Removes the PID files.
stop_daemons() {
  local name pid i alive
  local -A pids=()
  for name in "$@"; do
    [[ -f "$STATE_DIR/run/$name.pid" ]] || continue
    if pid="$(daemon_pid "$name")"; then
      log "stopping $name (pid $pid)"
      kill -TERM "$pid" 2>/dev/null || true
      pids[$name]="$pid"
    else
      rm -f "$STATE_DIR/run/$name.pid"
    fi
  done
  for ((i = 0; i < 100; i++)); do
    alive=0
    for name in "${!pids[@]}"; do kill -0 "${pids[$name]}" 2>/dev/null && alive=1; done
    ((alive)) || break
    sleep 0.2
  done
  for name in "${!pids[@]}"; do
    if kill -0 "${pids[$name]}" 2>/dev/null; then
      log "$name (pid ${pids[$name]}) did not stop in 20 s; sending SIGKILL"
      kill -KILL "${pids[$name]}" 2>/dev/null || true
    fi
    rm -f "$STATE_DIR/run/$name.pid"
  done
}
