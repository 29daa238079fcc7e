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
  local code
  code="$(curl --noproxy '*' --silent --max-time 5 -o /dev/null -w '%{http_code}' "http://$REGISTRY_ADDR/v2/")" || return 1
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
  pid_alive registry || ensure_registry_config
  start_daemon registry registry_ready 30 "$(registry_bin)" serve "$REGISTRY_DIR/config.yml"
}
