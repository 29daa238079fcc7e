# Runs the shopsys-ci CLI for a step of the shopsys-kube-ci Jenkins library.
#
# The step puts `set -- <arguments of shopsys-ci>` in front of this text and runs the result with the
# `sh` step. Everything else comes from the environment (withEnv / withCredentials), so no value, and
# no secret above all, is ever written into a command line by Groovy:
#
#   SHOPSYS_CI_CLI          shell command that runs the CLI on the agent, e.g. `npx --yes shopsys-kube-ci@<version>`
#   SHOPSYS_CI_IMAGE        when set: run `shopsys-ci` inside this (buildpack) image with `docker run`
#   SHOPSYS_CI_ENV_NAMES    names of the variables handed into the container, as `-e NAME` (value-less)
#   SHOPSYS_CI_DOCKER_ARGS  extra `docker run` arguments (split at blanks), e.g. `--network host`
#
# Diagnostics go to stderr: stdout belongs to the CLI (the steps read `names --urls` from it).
set +x
set -eu

if [ -z "${SHOPSYS_CI_IMAGE:-}" ]; then
  echo "[shopsys-ci] $SHOPSYS_CI_CLI $*" >&2
  eval "exec $SHOPSYS_CI_CLI \"\$@\""
fi

workspace=${WORKSPACE:-$PWD}

# The CLI drives the agent's Docker daemon through its socket; a TCP daemon is handed over by name.
socket=/var/run/docker.sock
case "${DOCKER_HOST:-}" in
  '') ;;
  unix://*) socket=${DOCKER_HOST#unix://} ;;
  *) socket='' ;;
esac
socket_args=''
if [ -n "$socket" ]; then
  if [ ! -S "$socket" ]; then
    echo "[shopsys-ci] no Docker socket at $socket: set DOCKER_HOST or start the Docker daemon on this agent" >&2
    exit 3
  fi
  # The socket's group, numeric: `ls -n` is POSIX (GNU `stat -c` is not on macOS agents).
  socket_args="--group-add $(ls -ldn "$socket" | awk '{print $4}')"
fi

# Like kubectl: KUBECONFIG (a file credential), else ~/.kube/config of the agent's user.
if [ -z "${KUBECONFIG:-}" ] && [ -f "${HOME:-/nonexistent}/.kube/config" ]; then
  KUBECONFIG=$HOME/.kube/config
  export KUBECONFIG
fi

env_args=''
for name in $SHOPSYS_CI_ENV_NAMES KUBECONFIG; do
  case $name in
    '' | [0-9]* | *[!A-Za-z0-9_]*)
      echo "[shopsys-ci] invalid variable name in SHOPSYS_CI_ENV_NAMES: $name" >&2
      exit 2
      ;;
  esac
  env_args="$env_args -e $name"
done
if [ -z "$socket" ]; then
  env_args="$env_args -e DOCKER_HOST"
fi

echo "[shopsys-ci] docker run $SHOPSYS_CI_IMAGE shopsys-ci $*" >&2
# Paths are mounted at the same place inside the container, so every path the CLI prints or writes
# (workspace, report, kubeconfig) means the same on the agent. Files are written as the agent's user.
# shellcheck disable=SC2086 # $socket_args, $env_args and $SHOPSYS_CI_DOCKER_ARGS are split on purpose
exec docker run --rm --init \
  --user "$(id -u):$(id -g)" \
  $socket_args \
  ${socket:+--volume "$socket:/var/run/docker.sock"} \
  --volume "$workspace:$workspace" \
  --workdir "$workspace" \
  ${KUBECONFIG:+--volume "$KUBECONFIG:$KUBECONFIG:ro"} \
  $env_args \
  ${SHOPSYS_CI_DOCKER_ARGS:-} \
  "$SHOPSYS_CI_IMAGE" shopsys-ci "$@"
