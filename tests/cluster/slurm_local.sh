#!/usr/bin/env bash
# A single-node SLURM on localhost, for the cluster test and by hand: munge, slurmctld and slurmd
# with one fake GPU (a gres backed by /dev/null), configured in a scratch folder.
#
#   tests/cluster/slurm_local.sh up      # start (as root; needs Debian's slurm-wlm and munge)
#   tests/cluster/slurm_local.sh status  # daemons and the partition
#   tests/cluster/slurm_local.sh down    # stop the daemons it started, by their pid files
#
# The config goes where SLURM looks by default, /etc/slurm/slurm.conf and gres.conf (an existing
# one not written by this script is never overwritten): snakemake's jobstep executor drops
# SLURM_CONF from the environment of the srun it runs inside each job. `down` removes them.
# SLURM_LOCAL_DIR (default /tmp/visionrepro-slurm) holds state, spool, logs and pid files;
# SLURM_LOCAL_PARTITION (default visionrepro) names the partition.
# Exit status of `up`: 0 running, 2 SLURM cannot run here (not root, not installed, another
# slurm.conf), 1 failed to start.
set -euo pipefail

DIR=${SLURM_LOCAL_DIR:-/tmp/visionrepro-slurm}
PARTITION=${SLURM_LOCAL_PARTITION:-visionrepro}
CONF=/etc/slurm/slurm.conf
GRES=/etc/slurm/gres.conf
MARK="# Written by tests/cluster/slurm_local.sh"
unset SLURM_CONF

cannot() {
  echo "slurm_local: $*" >&2
  exit 2
}

check_can_run() {
  [[ $(id -u) == 0 ]] || cannot "must run as root (slurmd and munged need it)"
  local tool
  for tool in munged munge unmunge slurmctld slurmd sinfo sbatch squeue scontrol; do
    command -v "$tool" >/dev/null || cannot "$tool not on PATH: apt-get install slurm-wlm munge"
  done
  local file other
  for file in "$CONF" "$GRES"; do
    [[ ! -e $file ]] || ours "$file" || cannot "$file exists and was not written by this script"
  done
  other=$(sed -n 's/^SlurmctldPidFile=//p' "$CONF" 2>/dev/null || true)
  if [[ -n $other && $other != "$DIR/run/slurmctld.pid" ]] && alive "$other"; then
    cannot "a local SLURM with state in $(dirname "$(dirname "$other")") is up: stop it first"
  fi
}

ours() {
  [[ $(head -n 1 "$1" 2>/dev/null) == "$MARK"* ]]
}

write_config() {
  local host cpus mem
  host=$(hostname)
  cpus=$(nproc)
  # Half the available memory, at most 16 GB: what jobs may reserve (mem_mb) on this node.
  mem=$(awk '/MemAvailable/ { m = int($2 / 1024 / 2); print (m > 16000 ? 16000 : m) }' /proc/meminfo)
  mkdir -p "$DIR"/{state,spool,log,run}
  chmod 755 "$DIR"
  chown slurm:slurm "$DIR"/{state,log,run}
  mkdir -p "$(dirname "$CONF")"
  cat >"$CONF" <<EOF
$MARK: one node ($host), $cpus CPUs, a fake GPU; state in $DIR.
ClusterName=visionrepro
SlurmctldHost=$host
SlurmUser=slurm
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
ReturnToService=2
GresTypes=gpu
MpiDefault=none
# No accounting: sacct cannot answer, so clients use squeue, which needs finished jobs kept.
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MinJobAge=3600
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
SlurmctldPidFile=$DIR/run/slurmctld.pid
SlurmdPidFile=$DIR/run/slurmd.pid
NodeName=$host CPUs=$cpus RealMemory=$mem Gres=gpu:1 State=UNKNOWN
PartitionName=$PARTITION Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
  cat >"$GRES" <<EOF
$MARK: a GPU without hardware; jobs asking for gpu:1 get CUDA_VISIBLE_DEVICES=0.
AutoDetect=off
NodeName=$host Name=gpu File=/dev/null Count=1
EOF
}

munge_works() {
  munge -n 2>/dev/null | unmunge >/dev/null 2>&1
}

start_munge() {
  if munge_works; then
    echo "munge: already running (left as it is)"
    return
  fi
  chown munge:munge /etc/munge/munge.key
  chmod 400 /etc/munge/munge.key
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge
  runuser -u munge -- munged --pid-file=/run/munge/munged.pid
  cp /run/munge/munged.pid "$DIR/run/munged.pid" # ours: `down` stops it
  munge_works || {
    echo "munge started but munge -n | unmunge fails" >&2
    exit 1
  }
}

# Wait (at most about a minute) until the partition has an idle node.
wait_idle() {
  local host state
  host=$(hostname)
  for _ in $(seq 60); do
    state=$(sinfo -h -n "$host" -o %T 2>/dev/null || true)
    case $state in
      idle*) return 0 ;;
      drain* | inval*) scontrol update nodename="$host" state=resume 2>/dev/null || true ;;
    esac
    sleep 1
  done
  echo "the node never became idle (state: ${state:-none}); logs in $DIR/log" >&2
  tail -n 20 "$DIR"/log/*.log >&2 || true
  return 1
}

alive() {
  [[ -s $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null
}

stop() {
  local pidfile=$DIR/run/$1.pid pid
  alive "$pidfile" || return 0
  pid=$(cat "$pidfile")
  kill "$pid"
  for _ in $(seq 30); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 1
  done
  echo "$1 (pid $pid) ignored SIGTERM: sending SIGKILL" >&2
  kill -9 "$pid" 2>/dev/null || true
}

up() {
  check_can_run
  if alive "$DIR/run/slurmctld.pid"; then
    echo "already up ($CONF, state and logs in $DIR)"
    return
  fi
  write_config
  start_munge
  slurmctld
  slurmd
  wait_idle
  sinfo
  echo "up: $CONF, state and logs in $DIR"
}

down() {
  if alive "$DIR/run/slurmctld.pid"; then scancel --user="$(id -un)" 2>/dev/null || true; fi
  stop slurmd
  stop slurmctld
  stop munged
  rm -f "$DIR"/run/*.pid
  local file
  for file in "$CONF" "$GRES"; do
    if ours "$file"; then rm -f "$file"; fi
  done
  echo "down (logs kept in $DIR/log)"
}

status() {
  local name
  for name in munged slurmctld slurmd; do
    if alive "$DIR/run/$name.pid"; then
      echo "$name: running (pid $(cat "$DIR/run/$name.pid"))"
    else
      echo "$name: not running (from this script)"
    fi
  done
  if alive "$DIR/run/slurmctld.pid"; then
    sinfo
    squeue
  fi
}

case ${1:-} in
  up) up ;;
  down) down ;;
  status) status ;;
  *)
    echo "usage: $0 up|down|status" >&2
    exit 64
    ;;
esac
