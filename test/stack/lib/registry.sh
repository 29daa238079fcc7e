# shellcheck shell=bash
# Registry (Debian's docker-registry, distribution 2.x) on 127.0.0.1 with htpasswd (bcrypt) auth.

REGISTRY_DIR="$STATE_DIR/registry"
REGISTRY_ADDR="127.0.0.1:$REGISTRY_PORT"
REGISTRY_PASSWORD_FILE="$REGISTRY_DIR/password"

registry_bin() {
  command -v docker-registry 2>/dev/null || echo /usr/bin/docker-registry
}

# Anonymous GET /v2/ answers 401 once the registry is up (auth is on).
registry_ready() {
  pid_alive registry || return 1
  local code
  code="$(curl -s -o /dev/null -w '%{http_code}' "http://$REGISTRY_ADDR/v2/")" || return 1
  [[ "$code" == 401 ]]
}

ensure_registry_config() {
  mkdir -p "$REGISTRY_DIR/data"
  chmod 700 "$REGISTRY_DIR"
  if [[ ! -s "$REGISTRY_PASSWORD_FILE" ]]; then
    (umask 077 && openssl rand -hex 16 >"$REGISTRY_PASSWORD_FILE")
  fi
  chmod 600 "$REGISTRY_PASSWORD_FILE"
  # Password on stdin (-i), never in argv.
  htpasswd -B -i -c "$REGISTRY_DIR/htpasswd" "$REGISTRY_USER" <"$REGISTRY_PASSWORD_FILE" 2>/dev/null
  chmod 600 "$REGISTRY_DIR/htpasswd"
  local secret_file="$REGISTRY_DIR/http-secret"
  [[ -s "$secret_file" ]] || (umask 077 && openssl rand -hex 16 >"$secret_file")
  (umask 077 && cat >"$REGISTRY_DIR/config.yml" <<YAML
version: 0.1
log:
  level: info
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: $REGISTRY_DIR/data
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
http:
  addr: $REGISTRY_ADDR
  secret: $(cat "$secret_file")
auth:
  htpasswd:
    realm: shopsys-ci-test-registry
    path: $REGISTRY_DIR/htpasswd
YAML
  )
}

start_registry() {
  if registry_ready; then return 0; fi
  if pid_alive registry; then
    wait_for 15 "registry" registry_ready && return 0
    show_log_tail "$STATE_DIR/logs/registry.log"
    die "registry (pid $(cat "$STATE_DIR/run/registry.pid")) is running but does not answer on $REGISTRY_ADDR"
  fi
  ensure_registry_config
  log "starting registry on $REGISTRY_ADDR"
  setsid "$(registry_bin)" serve "$REGISTRY_DIR/config.yml" \
    </dev/null >>"$STATE_DIR/logs/registry.log" 2>&1 &
  echo $! >"$STATE_DIR/run/registry.pid"
  if ! wait_for 30 "registry" registry_ready; then
    show_log_tail "$STATE_DIR/logs/registry.log"
    die "registry did not start (port $REGISTRY_PORT busy? set SHOPSYS_CI_STACK_REGISTRY_PORT)"
  fi
}
