# Helpers for test scripts that run inside the guest (sourced by run.sh). The guest is a whole
# kernel of the test's own: fixed names and subnets cannot collide with anything on the host.
#
#   $IN    files the test handed in (configurations)      $OUT   files the host test reads
#   $OURS  our plugins (dist/bin)                          $REFERENCE  the reference plugins

# Names the command that failed and where, from the test script down to the failing line.
report_failure() {
  local status=$1 command=$2 where="" i
  for ((i = 1; i < ${#BASH_SOURCE[@]}; i++)); do
    where+="${where:+ <- }${BASH_SOURCE[i]##*/}:${BASH_LINENO[i - 1]}"
  done
  echo "guest: \"$command\" exited with $status at $where" >&2
}

# container NAME...: a network namespace per name (/run/netns/NAME) with lo up.
container() {
  local name
  for name in "$@"; do
    ip netns add "$name"
    ip -n "$name" link set lo up
  done
}

# cni SUITE COMMAND PLUGIN CONTAINER CONFIG [IFNAME]: runs a plugin as a runtime does, for the
# container made by `container` (its name is the container ID), and prints the plugin's stdout.
# SUITE is ours or reference; CONFIG is a file in $IN or a path. A failing plugin fails the
# script with its error on stderr.
cni() {
  local suite=$1 command=$2 plugin=$3 container=$4 config=$5 ifname=${6:-eth0} dir output status=0
  case $suite in
    ours) dir=$OURS ;;
    reference) dir=$REFERENCE ;;
    *) echo "cni: the suite is ours or reference, not \"$suite\"" >&2; return 2 ;;
  esac
  [[ $config == /* ]] || config="$IN/$config"
  output=$(CNI_COMMAND=$command CNI_CONTAINERID=$container CNI_NETNS=/run/netns/$container \
    CNI_IFNAME=$ifname CNI_PATH=$dir "$dir/$plugin" < "$config") || status=$?
  if ((status != 0)); then
    echo "cni: $suite $plugin $command for $container ($config) exited with $status: $output" >&2
    return "$status"
  fi
  printf '%s\n' "$output"
}

# reach LABEL CONTAINER ADDRESS: records in $OUT/reach.tsv whether the container gets an answer
# to ping from ADDRESS (three tries within about 1.5 s).
reach() {
  local label=$1 container=$2 address=$3 answer=no
  if ip netns exec "$container" ping -q -c 3 -i 0.2 -W 1 "$address" > /dev/null 2>&1; then answer=yes; fi
  printf '%s\t%s\n' "$label" "$answer" >> "$OUT/reach.tsv"
}

# snapshot NAME [CONTAINER]: the links, addresses, routes and bridge VLANs of the guest's own
# namespace (or the container's) as `ip -j` / `bridge -j` JSON in $OUT/NAME.*.json.
snapshot() {
  local name=$1 container=${2:-}
  local -a in_ns=()
  [[ -z $container ]] || in_ns=(ip netns exec "$container")
  "${in_ns[@]}" ip -j -d link show > "$OUT/$name.links.json"
  "${in_ns[@]}" ip -j address show > "$OUT/$name.addresses.json"
  "${in_ns[@]}" ip -j -4 route show table main > "$OUT/$name.routes4.json"
  "${in_ns[@]}" ip -j -6 route show table main > "$OUT/$name.routes6.json"
  "${in_ns[@]}" bridge -j vlan show > "$OUT/$name.vlans.json"
}
