# Runs a test's script inside the guest (started by init.sh, in $GUEST_RUN/out): strict bash,
# the helpers of lib.sh, and on the first failing command a line on stderr that names it.
set -Eeuo pipefail
export GUEST_RUN IN="$GUEST_RUN/in" OUT="$GUEST_RUN/out"
set -a
source "$GUEST_RUN/env"
set +a
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
trap 'report_failure $? "$BASH_COMMAND"' ERR
source "$GUEST_RUN/test.sh"
