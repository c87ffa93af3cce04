#!/usr/bin/env bash
# Starts a throwaway single-node Slurm cluster on this Debian machine for the cluster tests:
# Debian's slurm-wlm and munge (installed when missing), a minimal slurm.conf, munged,
# slurmctld and slurmd started without systemd. Safe to run again: a running cluster is left
# as it is. `scripts/slurm-cluster.sh stop` stops the daemons.
#
# Needs root (or sudo): it writes /etc/slurm and /etc/munge and starts system daemons. Meant
# for CI and throwaway machines, never for a machine that has a real Slurm. The node is
# reached at 127.0.0.1, so the host name need not resolve.
set -euo pipefail

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo=(sudo); else
    echo "slurm-cluster: needs root (or sudo) to install and start Slurm" >&2
    exit 1
  fi
fi

if [ "${1:-}" = "stop" ]; then
  "${sudo[@]}" pkill -x slurmd || true
  "${sudo[@]}" pkill -x slurmctld || true
  "${sudo[@]}" pkill -x munged || true
  exit 0
fi

packages=(slurm-wlm munge)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "slurm-cluster: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if sinfo -h -o '%T' 2>/dev/null | grep -qE 'idle|mixed|allocated'; then
  exit 0
fi

host=$(hostname -s)
cpus=$(nproc)
memory=$(awk '/MemTotal/ { print int($2 / 1024 * 0.9) }' /proc/meminfo)

"${sudo[@]}" mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/munge /var/lib/munge /var/log/munge
if [ ! -s /etc/munge/munge.key ]; then
  "${sudo[@]}" sh -c 'dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none'
fi
"${sudo[@]}" chown -R munge:munge /etc/munge /run/munge /var/lib/munge /var/log/munge
"${sudo[@]}" chmod 400 /etc/munge/munge.key
"${sudo[@]}" chmod 755 /run/munge

"${sudo[@]}" tee /etc/slurm/slurm.conf >/dev/null <<CONF
# Written by mer's scripts/slurm-cluster.sh: a throwaway single-node cluster for tests.
ClusterName=mer-test
SlurmctldHost=${host}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# Without a default, each job would ask for the whole node's memory and run alone.
DefMemPerCPU=1024
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
MinJobAge=300
NodeName=${host} NodeAddr=127.0.0.1 CPUs=${cpus} RealMemory=${memory} State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
CONF

pgrep -x munged >/dev/null || "${sudo[@]}" runuser -u munge -- /usr/sbin/munged
pgrep -x slurmctld >/dev/null || "${sudo[@]}" /usr/sbin/slurmctld -c
pgrep -x slurmd >/dev/null || "${sudo[@]}" /usr/sbin/slurmd -N "${host}"

for _ in $(seq 1 60); do
  if sinfo -h -o '%T' 2>/dev/null | grep -qE 'idle|mixed|allocated'; then
    echo "slurm-cluster: node ${host} up (${cpus} CPUs, ${memory} MB)" >&2
    exit 0
  fi
  sleep 1
done
echo "slurm-cluster: the node did not come up; see /var/log/slurm/slurmctld.log and slurmd.log" >&2
sinfo >&2 || true
exit 1
