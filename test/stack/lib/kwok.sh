# shellcheck shell=bash
# kwok: fake nodes for the test cluster. The kwok controller marks pods on its nodes Running
# and Ready (no images are pulled, no containers run) following the Stages in
# test/stack/kwok/pod-stages.yaml, and serves the kubelet API of its nodes on
# 127.0.0.1:$KWOK_PORT (TLS, certificate from the stack CA):
#   - exec: ClusterExec runs the command on THIS machine, in $KWOK_DIR/exec (as the user that
#     ran `up`). Anyone who can reach the port can do that, which is why it listens on 127.0.0.1.
#   - logs: ClusterLogs serves $KWOK_DIR/logs/default.log (CRI log format) for every container;
#     a test may create a namespaced kwok `Logs` object (CRD installed by `up`) to serve a file
#     of its own for one pod.

KWOK_DIR="$STATE_DIR/kwok"
KWOK_POD_CIDR="${SHOPSYS_CI_STACK_POD_CIDR:-10.244.0.1/16}"

kwok_ready() { [[ "$(probe --cacert "$PKI_DIR/ca.crt" "https://127.0.0.1:$KWOK_PORT/healthz")" == ok ]]; }

write_kwok_config() {
  mkdir -p "$KWOK_DIR/exec" "$KWOK_DIR/logs"
  if [[ ! -s "$KWOK_DIR/logs/default.log" ]]; then
    local now
    now="$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)"
    {
      printf '%s stdout F shopsys-ci test stack: this container is simulated by kwok\n' "$now"
      printf '%s stdout F (log served from %s)\n' "$now" "$KWOK_DIR/logs/default.log"
    } >"$KWOK_DIR/logs/default.log"
  fi
  cat >"$KWOK_DIR/debugging.yaml" <<YAML
apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterExec
metadata:
  name: shopsys-ci-local-exec
spec:
  execs:
  - local:
      workDir: $KWOK_DIR/exec
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterLogs
metadata:
  name: shopsys-ci-default-logs
spec:
  logs:
  - logsFile: $KWOK_DIR/logs/default.log
YAML
}

ensure_kwok_crds() {
  local crd
  for crd in "$KWOK_BIN_DIR"/crds/*.yaml; do
    kubectl_admin apply --server-side --force-conflicts -f "$crd" >/dev/null
  done
  kubectl_admin wait --for condition=Established --timeout=30s crd/logs.kwok.x-k8s.io >/dev/null
}

start_kwok() {
  if ! pid_alive kwok; then
    write_kwok_config
    ensure_kwok_crds
    [[ -s "$KUBE_DIR/kwok.kubeconfig" ]] || write_kubeconfig "$KUBE_DIR/kwok.kubeconfig" kwok-controller
  fi
  start_daemon kwok kwok_ready 60 \
    "$KWOK_BIN_DIR/kwok" \
    --kubeconfig "$KUBE_DIR/kwok.kubeconfig" \
    --config "$STACK_DIR/kwok/pod-stages.yaml" \
    --config "$KWOK_DIR/debugging.yaml" \
    --enable-crds Logs \
    --manage-all-nodes=false \
    --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
    --node-ip 127.0.0.1 \
    --node-port "$KWOK_PORT" \
    --server-address "127.0.0.1:$KWOK_PORT" \
    --tls-cert-file "$PKI_DIR/kwok-kubelet.crt" \
    --tls-private-key-file "$PKI_DIR/kwok-kubelet.key" \
    --cidr "$KWOK_POD_CIDR" \
    --node-lease-duration-seconds 40
}

# Fake nodes: kwok-node-1 .. kwok-node-N, InternalIP 127.0.0.1 (the API server dials it for
# exec/logs, so it must be this machine), no taints so that ordinary manifests schedule.
ensure_nodes() {
  local i name
  for ((i = 1; i <= KWOK_NODES; i++)); do
    name="kwok-node-$i"
    kubectl_admin get node "$name" >/dev/null 2>&1 && continue
    kubectl_admin create -f - >/dev/null <<YAML
apiVersion: v1
kind: Node
metadata:
  name: $name
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    kubernetes.io/arch: amd64
    kubernetes.io/hostname: $name
    kubernetes.io/os: linux
    kubernetes.io/role: agent
    node-role.kubernetes.io/agent: ""
    type: kwok
status:
  addresses:
  - type: InternalIP
    address: 127.0.0.1
  - type: Hostname
    address: $name
  allocatable:
    cpu: "32"
    memory: 256Gi
    pods: "110"
    ephemeral-storage: 1Ti
  capacity:
    cpu: "32"
    memory: 256Gi
    pods: "110"
    ephemeral-storage: 1Ti
  nodeInfo:
    architecture: amd64
    operatingSystem: linux
YAML
  done
  wait_for 60 "$KWOK_NODES Ready nodes" nodes_ready || {
    kubectl_admin get nodes -o wide >&2 || true
    show_log_tail "$STATE_DIR/logs/kwok.log"
    die "kwok nodes did not become Ready"
  }
}

nodes_ready() {
  local ready
  ready="$(kubectl_admin get nodes -l type=kwok \
    -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c '^True$')"
  ((ready >= KWOK_NODES))
}
