#!/usr/bin/env bash
# The team's MLflow tracking server, set up by environment variables; serves the UI and the
# REST API that automl_nn's driver writes every search to.
#
# One box (sqlite, artifacts on disk), on 127.0.0.1:5000:
#   cluster/mlflow/server.sh
#
# A cluster (PostgreSQL for runs, an S3-compatible store for artifacts), still on loopback:
# run it on the Ray head node, where the search's driver runs; the driver alone talks to MLflow.
#   MLFLOW_BACKEND_STORE_URI=postgresql://mlflow:PASSWORD@db.internal:5432/mlflow \
#   MLFLOW_ARTIFACTS_DESTINATION=s3://automl-nn-mlflow/artifacts \
#   MLFLOW_S3_ENDPOINT_URL=http://minio.internal:9000 \
#   AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... \
#   cluster/mlflow/server.sh
# (MLFLOW_S3_ENDPOINT_URL for MinIO or Ceph only; on AWS S3 leave it out.)
#
# Reachable from other machines (a team's UI): bind an interface, and then MLflow's security
# guidance applies, which this script enforces: the Host names clients use (DNS-rebinding
# protection), the web origins allowed to call the API (CORS), and logins (basic-auth app).
#   MLFLOW_HOST=0.0.0.0 MLFLOW_SERVER_ALLOWED_HOSTS=mlflow.internal,mlflow.internal:5000 \
#   MLFLOW_SERVER_CORS_ALLOWED_ORIGINS=https://mlflow.internal \
#   MLFLOW_AUTH=basic MLFLOW_FLASK_SERVER_SECRET_KEY=KEEP-THIS-SECRET-AND-STABLE \
#   MLFLOW_AUTH_ADMIN_PASSWORD=... \
#   cluster/mlflow/server.sh
# (MLFLOW_AUTH_ADMIN_PASSWORD is read on the first start only, to create the admin user.)
# Clients of a basic-auth server set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD.
# Put TLS in front (a reverse proxy) when the network is not trusted: basic auth sends the
# password with every request.
#
# Needs: pip install "mlflow[auth]>=3.10,<4" (the [auth] extra for MLFLOW_AUTH=basic),
# psycopg2-binary for PostgreSQL, boto3 for S3 artifacts.
set -euo pipefail

die() {
    echo "cluster/mlflow/server.sh: $*" >&2
    exit 2
}

host=${MLFLOW_HOST:-127.0.0.1}
port=${MLFLOW_PORT:-5000}
state=${MLFLOW_STATE_DIR:-$HOME/mlflow-server}
backend=${MLFLOW_BACKEND_STORE_URI:-sqlite:///$state/mlflow.db}
artifacts=${MLFLOW_ARTIFACTS_DESTINATION:-$state/artifacts}
auth=${MLFLOW_AUTH:-none}
# sqlite takes one writer at a time: one worker; a database server takes several.
if [[ $backend == sqlite:* ]]; then default_workers=1; else default_workers=4; fi
workers=${MLFLOW_WORKERS:-$default_workers}

mkdir -p "$state"
args=(
    --host "$host" --port "$port" --workers "$workers"
    --backend-store-uri "$backend"
    # Clients send and fetch artifacts through the server (mlflow-artifacts:/ URIs), so only
    # the server holds the store's credentials.
    --serve-artifacts --artifacts-destination "$artifacts"
)

case $host in
127.0.0.1 | localhost | ::1) ;;
*)
    [[ -n ${MLFLOW_SERVER_ALLOWED_HOSTS:-} ]] ||
        die "binding $host: set MLFLOW_SERVER_ALLOWED_HOSTS to the host names clients use"
    [[ $auth == basic ]] || die "binding $host: set MLFLOW_AUTH=basic (logins for every user)"
    ;;
esac
[[ -z ${MLFLOW_SERVER_ALLOWED_HOSTS:-} ]] || args+=(--allowed-hosts "$MLFLOW_SERVER_ALLOWED_HOSTS")
[[ -z ${MLFLOW_SERVER_CORS_ALLOWED_ORIGINS:-} ]] ||
    args+=(--cors-allowed-origins "$MLFLOW_SERVER_CORS_ALLOWED_ORIGINS")

case $auth in
none) ;;
basic)
    [[ -n ${MLFLOW_FLASK_SERVER_SECRET_KEY:-} ]] ||
        die "MLFLOW_AUTH=basic: set MLFLOW_FLASK_SERVER_SECRET_KEY (the same on every server)"
    if [[ -z ${MLFLOW_AUTH_CONFIG_PATH:-} ]]; then
        export MLFLOW_AUTH_CONFIG_PATH=$state/basic_auth.ini
        # READ: a signed-in user reads every experiment and edits only what is granted.
        cat >"$MLFLOW_AUTH_CONFIG_PATH" <<EOF
[mlflow]
default_permission = READ
database_uri = ${MLFLOW_AUTH_DATABASE_URI:-sqlite:///$state/basic_auth.db}
admin_username = ${MLFLOW_AUTH_ADMIN_USERNAME:-admin}
authorization_function = mlflow.server.auth:authenticate_request_basic_auth
EOF
    fi
    args+=(--app-name basic-auth)
    ;;
*) die "MLFLOW_AUTH=$auth: expected none or basic" ;;
esac

exec mlflow server "${args[@]}"
