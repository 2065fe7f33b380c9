# Helpers for test scripts that run inside the guest (sourced by run.sh). The guest is a whole
# kernel of the test's own: fixed names and subnets cannot collide with anything on the host.
#
#   $IN    files the test handed in (configurations)      $OUT   files the host test reads
#   $OURS  our plugins (dist/bin)                          $REFERENCE  the reference plugins

# Names the command that failed, the test script's line it failed on, and the way there.
report_failure() {
  local status=$1 command=$2 where="" line="" i
  local -a script
  for ((i = 1; i < ${#BASH_SOURCE[@]}; i++)); do
    where+="${where:+ <- }${BASH_SOURCE[i]##*/}:${BASH_LINENO[i - 1]}"
    if [[ -z $line && ${BASH_SOURCE[i]} == "$GUEST_RUN/test.sh" ]]; then
      mapfile -t script < "$GUEST_RUN/test.sh"
      line=${script[BASH_LINENO[i - 1] - 1]}
    fi
  done
  echo "guest: \"$command\" exited with $status at $where" >&2
  [[ -z $line ]] || echo "guest: the failing line of the test script: ${line#"${line%%[![:space:]]*}"}" >&2
}

# container NAME...: a network namespace per name (/run/netns/NAME). Its lo stays down, as a
# runtime leaves it until the loopback plugin runs. (One `ip` for all: every process costs the
# guest a tenth of a second of CPU time or more.)
container() {
  printf 'netns add %s\n' "$@" | ip -batch -
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
# to ping from ADDRESS (asking five times a second, for two seconds at most).
reach() {
  local label=$1 container=$2 address=$3 answer=no
  if ip netns exec "$container" ping -q -c 1 -i 0.2 -w 2 "$address" > /dev/null 2>&1; then answer=yes; fi
  printf '%s\t%s\n' "$label" "$answer" >> "$OUT/reach.tsv"
}

# snapshot NAME [CONTAINER]: the links, addresses and routes of the guest's own namespace (or
# the container's) as `ip -j` JSON in $OUT/NAME.ip.jsonl (links, addresses and IPv4 routes, a
# line each) and $OUT/NAME.routes6.json, and for the guest's own namespace the bridge VLANs in
# $OUT/NAME.vlans.json.
snapshot() {
  local name=$1 container=${2:-}
  local -a ip=(ip)
  [[ -z $container ]] || ip=(ip -n "$container")
  printf 'link show\naddress show\nroute show table main\n' | "${ip[@]}" -j -d -batch - > "$OUT/$name.ip.jsonl"
  "${ip[@]}" -j -6 route show table main > "$OUT/$name.routes6.json"
  [[ -n $container ]] || bridge -j vlan show > "$OUT/$name.vlans.json"
}

# ipv4_of RESULT: the first IPv4 address of a CNI result file, without its prefix length.
ipv4_of() {
  local pattern='"address": *"([0-9.]+)/'
  [[ $(< "$1") =~ $pattern ]] || { echo "ipv4_of: no IPv4 address in $1" >&2; return 1; }
  printf '%s\n' "${BASH_REMATCH[1]}"
}
