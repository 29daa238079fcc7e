# shellcheck shell=bash disable=SC2034  # variables are used by the scripts that source this file
# Kubernetes control plane, started by hand (envtest style) from the cached binaries:
# etcd (plain HTTP on 127.0.0.1 only), kube-apiserver (TLS, client certificates, RBAC),
# kube-controller-manager and kube-scheduler. There is no kubelet: kwok plays the nodes.

KUBE_DIR="$STATE_DIR/kube"
SERVICE_CIDR="10.96.0.0/16"
SERVICE_IP="10.96.0.1"
ADMIN_KUBECONFIG="$KUBE_DIR/admin.kubeconfig"

kubectl_admin() { kubectl --kubeconfig "$ADMIN_KUBECONFIG" "$@"; }

etcd_ready() { [[ "$(probe "http://127.0.0.1:$ETCD_PORT/health")" == *'"health":"true"'* ]]; }
apiserver_ready() {
  [[ "$(probe --cacert "$PKI_DIR/ca.crt" --cert "$PKI_DIR/admin.crt" --key "$PKI_DIR/admin.key" \
    "https://127.0.0.1:$APISERVER_PORT/readyz")" == ok ]]
}
# Their serving certificates are self-signed by the components themselves.
kcm_ready() { [[ "$(probe --insecure "https://127.0.0.1:$KCM_PORT/healthz")" == ok ]]; }
scheduler_ready() { [[ "$(probe --insecure "https://127.0.0.1:$SCHEDULER_PORT/healthz")" == ok ]]; }

start_etcd() {
  mkdir -p "$KUBE_DIR/etcd"
  chmod 700 "$KUBE_DIR/etcd"
  start_daemon etcd etcd_ready 60 \
    "$KUBE_BIN_DIR/etcd" \
    --name shopsys-ci-test \
    --data-dir "$KUBE_DIR/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "shopsys-ci-test=http://127.0.0.1:$ETCD_PEER_PORT" \
    --unsafe-no-fsync \
    --quota-backend-bytes=$((2 * 1024 * 1024 * 1024)) \
    --log-level=warn
}

start_apiserver() {
  mkdir -p "$KUBE_DIR/apiserver-certs"
  start_daemon kube-apiserver apiserver_ready 120 \
    "$KUBE_BIN_DIR/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
    --bind-address 127.0.0.1 \
    --advertise-address 127.0.0.1 \
    --secure-port "$APISERVER_PORT" \
    --cert-dir "$KUBE_DIR/apiserver-certs" \
    --tls-cert-file "$PKI_DIR/apiserver.crt" \
    --tls-private-key-file "$PKI_DIR/apiserver.key" \
    --client-ca-file "$PKI_DIR/ca.crt" \
    --kubelet-client-certificate "$PKI_DIR/apiserver-kubelet-client.crt" \
    --kubelet-client-key "$PKI_DIR/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority "$PKI_DIR/ca.crt" \
    --kubelet-preferred-address-types InternalIP \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$PKI_DIR/sa.pub" \
    --service-account-signing-key-file "$PKI_DIR/sa.key" \
    --service-cluster-ip-range "$SERVICE_CIDR" \
    --authorization-mode Node,RBAC \
    --endpoint-reconciler-type none \
    --allow-privileged=true \
    --profiling=false \
    --v=0
}

start_controller_manager() {
  [[ -s "$KUBE_DIR/kube-controller-manager.kubeconfig" ]] ||
    write_kubeconfig "$KUBE_DIR/kube-controller-manager.kubeconfig" kube-controller-manager
  mkdir -p "$KUBE_DIR/kube-controller-manager-certs"
  local kc="$KUBE_DIR/kube-controller-manager.kubeconfig"
  start_daemon kube-controller-manager kcm_ready 60 \
    "$KUBE_BIN_DIR/kube-controller-manager" \
    --kubeconfig "$kc" \
    --authentication-kubeconfig "$kc" \
    --authorization-kubeconfig "$kc" \
    --bind-address 127.0.0.1 \
    --secure-port "$KCM_PORT" \
    --cert-dir "$KUBE_DIR/kube-controller-manager-certs" \
    --leader-elect=false \
    --use-service-account-credentials=true \
    --service-account-private-key-file "$PKI_DIR/sa.key" \
    --root-ca-file "$PKI_DIR/ca.crt" \
    --cluster-signing-cert-file "$PKI_DIR/ca.crt" \
    --cluster-signing-key-file "$PKI_DIR/ca.key" \
    --cluster-name shopsys-ci-test \
    --service-cluster-ip-range "$SERVICE_CIDR" \
    --profiling=false \
    --v=0
}

start_scheduler() {
  [[ -s "$KUBE_DIR/kube-scheduler.kubeconfig" ]] ||
    write_kubeconfig "$KUBE_DIR/kube-scheduler.kubeconfig" kube-scheduler
  mkdir -p "$KUBE_DIR/kube-scheduler-certs"
  local kc="$KUBE_DIR/kube-scheduler.kubeconfig"
  start_daemon kube-scheduler scheduler_ready 60 \
    "$KUBE_BIN_DIR/kube-scheduler" \
    --kubeconfig "$kc" \
    --authentication-kubeconfig "$kc" \
    --authorization-kubeconfig "$kc" \
    --bind-address 127.0.0.1 \
    --secure-port "$SCHEDULER_PORT" \
    --cert-dir "$KUBE_DIR/kube-scheduler-certs" \
    --leader-elect=false \
    --profiling=false \
    --v=0
}

# The `default` ServiceAccount of a namespace must exist before pods are admitted there.
default_sa_exists() { kubectl_admin -n default get serviceaccount default; }

start_control_plane() {
  mkdir -p "$KUBE_DIR"
  chmod 700 "$KUBE_DIR"
  ensure_pki
  [[ -s "$ADMIN_KUBECONFIG" ]] || write_kubeconfig "$ADMIN_KUBECONFIG" admin
  start_etcd
  start_apiserver
  start_controller_manager
  start_scheduler
  wait_for 60 "the default ServiceAccount" default_sa_exists ||
    { show_log_tail "$STATE_DIR/logs/kube-controller-manager.log"; die "controller-manager does not create ServiceAccounts"; }
}
