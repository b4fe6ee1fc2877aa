#!/usr/bin/env bash
# A single-node Apache Kafka broker (KRaft, broker+controller in one JVM) for development and tests.
#
#   bash scripts/kafka.sh start    # starts it if needed; prints host:port as the last line
#   bash scripts/kafka.sh status   # prints host:port and exits 0 when running, exits 1 otherwise
#   bash scripts/kafka.sh stop     # stops it (TERM, then KILL after a timeout) and waits
#
# Runs the official org.apache.kafka:kafka_2.13 jars that Maven resolves from Maven Central (no Docker).
# Everything lives under ENSEMBLE_KAFKA_DIR (default .cache/kafka, ignored by git): the classpath, the
# data, the logs, the pid file, and the ports picked on first start, so the address stays the same
# across restarts and data survives them. Point ENSEMBLE_KAFKA_DIR elsewhere to run a second broker.
#
# Environment:
#   ENSEMBLE_KAFKA_DIR            state folder (default <repo>/.cache/kafka)
#   ENSEMBLE_KAFKA_PORT           client port (default: a free loopback port, picked once, then kept)
#   ENSEMBLE_KAFKA_VERSION        kafka_2.13 version (default 4.2.0, the newest @platformatic/kafka supports)
#   ENSEMBLE_KAFKA_HEAP           JVM max heap (default 512m)
#   ENSEMBLE_KAFKA_START_TIMEOUT  seconds to wait for the broker to accept clients (default 60)
#   ENSEMBLE_KAFKA_STOP_TIMEOUT   seconds to wait after TERM before KILL (default 30)
#   ENSEMBLE_KAFKA_SECURITY       the client listener (default plaintext, unchanged). Opt-in, for tests of
#                                 authentication and TLS: sasl-scram (SASL_PLAINTEXT + SCRAM-SHA-512),
#                                 sasl-scram-tls (SASL_SSL + SCRAM-SHA-512), tls (SSL, no authentication).
#                                 The SASL modes also accept OAUTHBEARER with unsigned JWTs (the token
#                                 path of MSK IAM; test brokers only).
#                                 Fixed when the folder is first formatted (the SCRAM user is created
#                                 then); later starts reuse it. TLS uses a throwaway CA made in
#                                 $ENSEMBLE_KAFKA_DIR/tls/ (clients trust tls/ca.pem). The controller and
#                                 inter-broker listeners stay PLAINTEXT on loopback.
#   ENSEMBLE_KAFKA_SASL_USERNAME  the SCRAM user of the secure modes (default ensemble)
#   ENSEMBLE_KAFKA_SASL_PASSWORD  its password (default ensemble-secret; letters, digits, - _ . only)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
default_dir="$root/.cache/kafka"
dir="${ENSEMBLE_KAFKA_DIR:-$default_dir}"
version="${ENSEMBLE_KAFKA_VERSION:-4.2.0}"
heap="${ENSEMBLE_KAFKA_HEAP:-512m}"
start_timeout="${ENSEMBLE_KAFKA_START_TIMEOUT:-60}"
stop_timeout="${ENSEMBLE_KAFKA_STOP_TIMEOUT:-30}"
host=127.0.0.1

lib_dir="$dir/lib/$version"
data_dir="$dir/data"
log_dir="$dir/logs"
pid_file="$dir/kafka.pid"
port_file="$dir/port"
controller_port_file="$dir/controller-port"
internal_port_file="$dir/internal-port"
security_file="$dir/security"
tls_dir="$dir/tls"
config_file="$dir/server.properties"

say() { echo "kafka: $*" >&2; }
fail() {
  say "$*"
  exit 1
}

# The pid in the pid file, if that process is alive and is the broker of this folder (pids get reused).
running_pid() {
  local pid
  [ -f "$pid_file" ] || return 1
  pid="$(cat "$pid_file" 2>/dev/null)"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "kafka.Kafka $config_file" || return 1
  echo "$pid"
}

address() { echo "$host:$(cat "$port_file")"; }

port_in_use() { [ -n "$(ss -Htln "sport = :$1" 2>/dev/null)" ]; }

# Ports are picked below the kernel's ephemeral range (32768 by default): a port picked there can be
# handed to some client's outgoing connection between the pick and the broker's bind (seen in CI).
ephemeral_low() {
  local low
  low="$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null)"
  [[ "$low" =~ ^[0-9]+$ ]] && [ "$low" -gt 12000 ] && echo "$low" || echo 32768
}

free_port() {
  local port low
  low="$(ephemeral_low)"
  for _ in $(seq 1 200); do
    port=$((10000 + RANDOM % (low - 10000)))
    if ! port_in_use "$port" && [ "$port" != "${1:-}" ]; then
      echo "$port"
      return 0
    fi
  done
  fail "found no free loopback port"
}

accepts_connections() { (exec 3<>"/dev/tcp/$host/$1") 2>/dev/null; }

# Resolves the broker's classpath once per version; a second broker dir copies the default one's.
ensure_classpath() {
  [ -f "$lib_dir/.complete" ] && return 0
  local shared="$default_dir/lib/$version" tmp
  tmp="$(mktemp -d "$dir/lib/.resolve.XXXXXX")"
  if [ "$lib_dir" != "$shared" ] && [ -f "$shared/.complete" ]; then
    cp "$shared"/*.jar "$tmp/"
  else
    command -v mvn >/dev/null || fail "mvn is not on PATH (Maven resolves the broker from Maven Central)"
    say "resolving org.apache.kafka:kafka_2.13:$version from Maven Central (first start only)"
    mvn -q -B -Dstyle.color=never -f "$root/scripts/kafka/pom.xml" dependency:copy-dependencies \
      -Dkafka.version="$version" -DincludeScope=runtime -DoutputDirectory="$tmp" >&2 ||
      fail "mvn could not resolve kafka_2.13:$version"
  fi
  touch "$tmp/.complete"
  rm -rf "$lib_dir"
  mv "$tmp" "$lib_dir"
}

ensure_ports() {
  if [ -n "${ENSEMBLE_KAFKA_PORT:-}" ]; then
    echo "$ENSEMBLE_KAFKA_PORT" >"$port_file"
  elif [ ! -s "$port_file" ]; then
    free_port >"$port_file"
  fi
  if [ ! -s "$controller_port_file" ] || [ "$(cat "$controller_port_file")" = "$(cat "$port_file")" ]; then
    free_port "$(cat "$port_file")" >"$controller_port_file"
  fi
  if [ "$security" != plaintext ] && [ ! -s "$internal_port_file" ]; then
    local internal
    while internal="$(free_port "$(cat "$port_file")")" && [ "$internal" = "$(cat "$controller_port_file")" ]; do :; done
    echo "$internal" >"$internal_port_file"
  fi
}

# The security mode: asked for by ENSEMBLE_KAFKA_SECURITY, or the one this folder was formatted with.
resolve_security() {
  local recorded=""
  [ -s "$security_file" ] && recorded="$(cat "$security_file")"
  security="${ENSEMBLE_KAFKA_SECURITY:-${recorded:-plaintext}}"
  case "$security" in
    plaintext | sasl-scram | sasl-scram-tls | tls) ;;
    *) fail "ENSEMBLE_KAFKA_SECURITY must be plaintext, sasl-scram, sasl-scram-tls or tls, got '$security'" ;;
  esac
  if [ -f "$data_dir/meta.properties" ] && [ "$security" != "${recorded:-plaintext}" ]; then
    fail "$dir was formatted for ${recorded:-plaintext}, not $security; use another ENSEMBLE_KAFKA_DIR"
  fi
  sasl_username="${ENSEMBLE_KAFKA_SASL_USERNAME:-ensemble}"
  sasl_password="${ENSEMBLE_KAFKA_SASL_PASSWORD:-ensemble-secret}"
  [[ "$sasl_username$sasl_password" =~ ^[A-Za-z0-9._-]+$ ]] ||
    fail "ENSEMBLE_KAFKA_SASL_USERNAME/PASSWORD may hold only letters, digits, '-', '_' and '.'"
}

# Listeners and security settings of the secure modes, appended to server.properties.
write_security_config() {
  local port controller_port internal_port protocol
  port="$(cat "$port_file")"
  controller_port="$(cat "$controller_port_file")"
  internal_port="$(cat "$internal_port_file")"
  case "$security" in
    sasl-scram) protocol=SASL_PLAINTEXT ;;
    sasl-scram-tls) protocol=SASL_SSL ;;
    tls) protocol=SSL ;;
  esac
  cat <<EOF
# Client listener: $security. Controller and inter-broker traffic stay PLAINTEXT on loopback.
listeners=CLIENT://$host:$port,INTERNAL://$host:$internal_port,CONTROLLER://$host:$controller_port
advertised.listeners=CLIENT://$host:$port,INTERNAL://$host:$internal_port
listener.security.protocol.map=CLIENT:$protocol,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=INTERNAL
EOF
  if [ "$security" != tls ]; then
    cat <<EOF
sasl.enabled.mechanisms=SCRAM-SHA-512,OAUTHBEARER
listener.name.client.sasl.enabled.mechanisms=SCRAM-SHA-512,OAUTHBEARER
listener.name.client.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
# OAUTHBEARER with Kafka's built-in validator of unsigned JWTs: for tests of the OAUTHBEARER token
# path that Amazon MSK's IAM authentication uses. Anyone can log in with it: a loopback test broker only.
listener.name.client.oauthbearer.sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;
EOF
  fi
  if [ "$security" != sasl-scram ]; then
    cat <<EOF
ssl.keystore.type=PKCS12
ssl.keystore.location=$tls_dir/server.p12
ssl.keystore.password=$(cat "$tls_dir/keystore-password")
ssl.client.auth=none
EOF
  fi
}

# The default mode's listeners, exactly as before secure modes existed; secure modes append theirs.
plaintext_listeners() {
  if [ "$security" = plaintext ]; then
    echo "listeners=PLAINTEXT://$host:$port,CONTROLLER://$host:$controller_port"
    echo "advertised.listeners=PLAINTEXT://$host:$port"
    echo "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"
    echo "controller.listener.names=CONTROLLER"
    echo "inter.broker.listener.name=PLAINTEXT"
  else
    echo "controller.listener.names=CONTROLLER"
  fi
}

write_config() {
  local port controller_port
  port="$(cat "$port_file")"
  controller_port="$(cat "$controller_port_file")"
  cat >"$config_file" <<EOF
# Written by scripts/kafka.sh on each start; edit the script, not this file.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$host:$controller_port
$(plaintext_listeners)
log.dirs=$data_dir

# One node: every internal topic has one replica.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
default.replication.factor=1
min.insync.replicas=1

# Tests: a new group starts at once, and only the event bus creates topics.
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
num.partitions=1
delete.topic.enable=true

# A small machine: few threads, short retention.
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
log.retention.hours=24
log.segment.bytes=67108864
EOF
  if [ "$security" != plaintext ]; then
    echo >>"$config_file"
    write_security_config >>"$config_file"
  fi
}

format_storage() {
  [ -f "$data_dir/meta.properties" ] && return 0
  local cluster_id
  # A Kafka cluster id is 16 random bytes in URL-safe base64 without padding (not starting with '-').
  while :; do
    cluster_id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
    [ "${cluster_id:0:1}" != "-" ] && break
  done
  local scram=()
  # The SCRAM user goes into the cluster metadata at format time, before any client can connect.
  case "$security" in sasl-scram*) scram=(--add-scram "SCRAM-SHA-512=[name=$sasl_username,password=$sasl_password]") ;; esac
  java -Xmx256m -cp "$lib_dir/*" -Dlog4j2.configurationFile="$root/scripts/kafka/log4j2.properties" \
    kafka.tools.StorageTool format --ignore-formatted -t "$cluster_id" -c "$config_file" "${scram[@]}" >>"$log_dir/format.log" 2>&1 ||
    fail "formatting the storage failed; see $log_dir/format.log"
  [ "$security" = plaintext ] || echo "$security" >"$security_file"
}

start() {
  local pid
  if pid="$(running_pid)"; then
    address
    return 0
  fi
  command -v java >/dev/null || fail "java is not on PATH (Java 17 runs the broker)"
  mkdir -p "$dir/lib" "$data_dir" "$log_dir"
  ensure_classpath
  resolve_security
  ensure_ports
  case "$security" in *tls) bash "$root/scripts/kafka/make-tls.sh" "$tls_dir" || fail "could not make the TLS material in $tls_dir" ;; esac
  local port
  port="$(cat "$port_file")"
  port_in_use "$port" && fail "port $port is taken by another process; set ENSEMBLE_KAFKA_PORT or free it"
  write_config
  format_storage

  local attempt=1
  while :; do
    launch_and_wait && return 0
    # A port taken between the pick and the bind: pick new ones (unless the client port was set).
    if [ "$attempt" -lt 3 ] && [ -z "${ENSEMBLE_KAFKA_PORT:-}" ] && grep -q "Address already in use" "$log_dir/kafka.log"; then
      say "a port was taken before the broker could bind it; picking new ports (attempt $((attempt + 1)))"
      rm -f "$port_file" "$controller_port_file" "$internal_port_file"
      ensure_ports
      port="$(cat "$port_file")"
      write_config
      attempt=$((attempt + 1))
      continue
    fi
    say "the broker exited during start; last lines of $log_dir/kafka.log:"
    tail -n 40 "$log_dir/kafka.log" >&2 || true
    exit 1
  done
}

# Starts the broker and waits until it accepts connections: 0 when it does, 1 when it exited
# during start (the caller reads its log); a start that hangs past the timeout ends the script.
launch_and_wait() {
  local pid
  [ -f "$log_dir/kafka.log" ] && mv -f "$log_dir/kafka.log" "$log_dir/kafka.log.1"
  rm -f "$pid_file"
  # setsid: the broker outlives the shell or test that started it; fd 9 (the lock) is not inherited.
  setsid sh -c 'echo $$ >"$1"; shift; exec "$@"' sh "$pid_file" \
    java -Xms128m -Xmx"$heap" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError \
    -Djava.awt.headless=true -Dlog4j2.configurationFile="$root/scripts/kafka/log4j2.properties" \
    -Dkafka.logs.dir="$log_dir" -cp "$lib_dir/*" kafka.Kafka "$config_file" \
    </dev/null >"$log_dir/kafka.log" 2>&1 9>&- &

  local deadline=$((SECONDS + start_timeout))
  while :; do
    if pid="$(running_pid)" && grep -q "Kafka Server started" "$log_dir/kafka.log" && accepts_connections "$port"; then
      address
      return 0
    fi
    if [ -s "$pid_file" ] && ! kill -0 "$(cat "$pid_file")" 2>/dev/null; then
      rm -f "$pid_file"
      return 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      say "the broker did not accept connections within ${start_timeout}s; last lines of $log_dir/kafka.log:"
      tail -n 40 "$log_dir/kafka.log" >&2 || true
      stop_broker
      exit 1
    fi
    sleep 0.2
  done
}

stop_broker() {
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$pid_file"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + stop_timeout))
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      say "the broker (pid $pid) did not stop within ${stop_timeout}s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
      while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
      break
    fi
    sleep 0.2
  done
  rm -f "$pid_file"
}

status() {
  if running_pid >/dev/null && [ -s "$port_file" ] && accepts_connections "$(cat "$port_file")"; then
    address
    return 0
  fi
  say "not running (dir $dir)"
  return 1
}

with_lock() {
  mkdir -p "$dir"
  exec 9>"$dir/.lock"
  flock 9
  "$@"
}

case "${1:-}" in
  start) with_lock start ;;
  stop) with_lock stop_broker ;;
  status) status ;;
  *)
    echo "usage: bash scripts/kafka.sh start|stop|status   (state in \${ENSEMBLE_KAFKA_DIR:-.cache/kafka})" >&2
    exit 2
    ;;
esac
