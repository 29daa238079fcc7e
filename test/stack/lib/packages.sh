# shellcheck shell=bash
# Debian packages the stack needs; installed on demand by `up`.

# command -> package that provides it
declare -A STACK_PACKAGES=(
  [dockerd]=docker.io
  [docker-registry]=docker-registry
  [htpasswd]=apache2-utils
  [openssl]=openssl
  [curl]=curl
  [patch]=patch
)
# busybox-static is checked as a package: the dynamically linked `busybox` package also
# provides /bin/busybox, but that one would not run in an image built FROM scratch.

ensure_packages() {
  local missing=() cmd
  for cmd in "${!STACK_PACKAGES[@]}"; do
    command -v "$cmd" >/dev/null 2>&1 || [[ -x "/usr/sbin/$cmd" ]] || [[ -x "/usr/bin/$cmd" ]] ||
      missing+=("${STACK_PACKAGES[$cmd]}")
  done
  dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed' ||
    missing+=(busybox-static)
  ((${#missing[@]} == 0)) && return 0

  log "installing missing Debian packages: ${missing[*]}"
  local sudo=()
  if ((EUID != 0)); then
    command -v sudo >/dev/null || die "need root (or sudo) to install: ${missing[*]}"
    sudo=(sudo)
  fi
  local apt_log="$STATE_DIR/logs/apt.log"
  mkdir -p "$STATE_DIR/logs"
  # The package lists are refreshed once, only because something is missing.
  if ! "${sudo[@]}" apt-get update >"$apt_log" 2>&1 ||
    ! DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}" >>"$apt_log" 2>&1; then
    show_log_tail "$apt_log"
    die "could not install ${missing[*]}"
  fi
}
