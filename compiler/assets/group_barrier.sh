# OSMO group barrier (osmo-compiler): wait until every task of this group has a DNS name,
# i.e. every pod of the group is scheduled and has an address, before the task's command starts.
# OSMO_GROUP_HOSTS lists "<task>.<service>" names; they are looked up fully qualified
# (with this pod's first DNS search domain, "<namespace>.svc.<cluster domain>").
domain=$(awk '$1 == "search" { print $2; exit }' "${OSMO_RESOLV_CONF:-/etc/resolv.conf}")
for host in $OSMO_GROUP_HOSTS; do
  until nslookup "$host.$domain" 2>/dev/null | grep -q '^Name:'; do
    sleep 1
  done
  echo "osmo barrier: $host is up"
done
echo "osmo barrier: all tasks of the group are up"
