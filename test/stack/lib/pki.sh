# shellcheck shell=bash
# Throw-away PKI for the test cluster (openssl): one CA, serving certificates for the API server
# and for kwok's kubelet endpoint, client certificates for every component, and the service
# account signing key pair. Created once per state directory.

PKI_DIR="$STATE_DIR/pki"

# issue_cert NAME SUBJECT KIND [SAN]: key + certificate signed by the stack CA.
# KIND is "client" or "server"; SAN like "DNS:localhost,IP:127.0.0.1".
issue_cert() {
  local name="$1" subject="$2" kind="$3" san="${4:-}"
  [[ -s "$PKI_DIR/$name.crt" && -s "$PKI_DIR/$name.key" ]] && return 0
  local ext="$PKI_DIR/$name.ext"
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    if [[ "$kind" == server ]]; then echo "extendedKeyUsage=serverAuth"; else echo "extendedKeyUsage=clientAuth"; fi
    [[ -n "$san" ]] && echo "subjectAltName=$san"
  } >"$ext"
  openssl req -new -newkey rsa:2048 -nodes -keyout "$PKI_DIR/$name.key" -subj "$subject" \
    -out "$PKI_DIR/$name.csr" 2>/dev/null
  openssl x509 -req -in "$PKI_DIR/$name.csr" -CA "$PKI_DIR/ca.crt" -CAkey "$PKI_DIR/ca.key" \
    -CAcreateserial -days 3650 -sha256 -extfile "$ext" -out "$PKI_DIR/$name.crt" 2>/dev/null
  rm -f "$PKI_DIR/$name.csr" "$ext"
  chmod 600 "$PKI_DIR/$name.key"
}

ensure_pki() {
  mkdir -p "$PKI_DIR"
  chmod 700 "$PKI_DIR"
  if [[ ! -s "$PKI_DIR/ca.crt" ]]; then
    log "creating a throw-away CA in $PKI_DIR"
    openssl req -x509 -new -newkey rsa:2048 -nodes -days 3650 -sha256 \
      -keyout "$PKI_DIR/ca.key" -out "$PKI_DIR/ca.crt" \
      -subj "/CN=shopsys-kube-ci-test-ca" \
      -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" 2>/dev/null
    chmod 600 "$PKI_DIR/ca.key"
  fi
  issue_cert apiserver "/CN=kube-apiserver" server \
    "DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:127.0.0.1,IP:$SERVICE_IP"
  # kwok serves the kubelet API (exec, logs) for the fake nodes on 127.0.0.1.
  issue_cert kwok-kubelet "/CN=kwok-kubelet" server "DNS:localhost,IP:127.0.0.1"
  issue_cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" client
  issue_cert admin "/O=system:masters/CN=shopsys-ci-test-admin" client
  issue_cert kube-controller-manager "/CN=system:kube-controller-manager" client
  issue_cert kube-scheduler "/CN=system:kube-scheduler" client
  issue_cert kwok-controller "/O=system:masters/CN=kwok-controller" client
  if [[ ! -s "$PKI_DIR/sa.key" ]]; then
    openssl genrsa -out "$PKI_DIR/sa.key" 2048 2>/dev/null
    openssl rsa -in "$PKI_DIR/sa.key" -pubout -out "$PKI_DIR/sa.pub" 2>/dev/null
    chmod 600 "$PKI_DIR/sa.key"
  fi
}

# write_kubeconfig FILE CERT_NAME: kubeconfig for the stack's API server with a client cert.
write_kubeconfig() {
  local file="$1" name="$2"
  (umask 077 && cat >"$file" <<YAML
apiVersion: v1
kind: Config
clusters:
- name: shopsys-ci-test
  cluster:
    server: https://127.0.0.1:$APISERVER_PORT
    certificate-authority-data: $(base64 -w0 "$PKI_DIR/ca.crt")
users:
- name: $name
  user:
    client-certificate-data: $(base64 -w0 "$PKI_DIR/$name.crt")
    client-key-data: $(base64 -w0 "$PKI_DIR/$name.key")
contexts:
- name: shopsys-ci-test
  context:
    cluster: shopsys-ci-test
    user: $name
    namespace: default
current-context: shopsys-ci-test
YAML
  )
}
