# OSMO group barrier (osmo-compiler): wait until every task of this group has a DNS name,
# i.e. every pod of the group is scheduled and has an address, before the task's command starts.
# OSMO_GROUP_HOSTS lists "<task>.<service>" names; they are looked up fully qualified
# (with this pod's first DNS search domain, "<namespace>.svc.<cluster domain>").
# A name seen once counts even if it disappears later: Kubernetes drops a pod that has ended from
# the Service, and a member that has ended is not waited for (OSMO counts only active members).
# OSMO_BARRIER_TIMEOUT (seconds) bounds the wait: then the task fails with a message naming the
# members that never got an address (never started: bad image, missing Secret, no node...).
domain=$(awk '$1 == "search" { print $2; exit }' "${OSMO_RESOLV_CONF:-/etc/resolv.conf}")
timeout=${OSMO_BARRIER_TIMEOUT:-1200}
start=$(date +%s)
waiting=$OSMO_GROUP_HOSTS
while [ -n "$waiting" ]; do
  still=""
  for host in $waiting; do
    if nslookup "$host.$domain" 2>/dev/null | grep -q '^Name:'; then
      echo "osmo barrier: $host is up"
    else
      still="$still $host"
    fi
  done
  waiting=${still# }
  [ -z "$waiting" ] && break
  if [ $(($(date +%s) - start)) -ge "$timeout" ]; then
    message="osmo barrier: after ${timeout}s these tasks of the group never started: $waiting (bad image, missing Secret or no node for their pods?)"
    echo "$message" >&2
    echo "$message" > "${OSMO_TERMINATION_LOG:-/dev/termination-log}" 2>/dev/null
    exit 1
  fi
  sleep "${OSMO_BARRIER_INTERVAL:-1}"
done
echo "osmo barrier: all tasks of the group are up"
