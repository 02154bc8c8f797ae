#!/usr/bin/env bash
# apt-get that waits for Debian's package locks instead of failing when another apt/dpkg
# holds them (unattended-upgrades on a fresh machine, another install):
#   bash scripts/apt-get.sh update -qq
#   bash scripts/apt-get.sh install -y -qq chromium
#   bash scripts/apt-get.sh                  # no arguments: only wait for the locks
# It waits up to TWIN_APT_LOCK_TIMEOUT seconds (default 600), saying on stderr what it waits
# for. apt-get's own -o DPkg::Lock::Timeout covers dpkg's locks but not `apt-get update`'s
# lists lock (apt 2.6), so it first waits for every lock itself. apt and dpkg take fcntl()
# locks, which flock(1) neither sees nor blocks, hence the fcntl probe below.
# TWIN_APT_LOCKS (colon-separated paths) replaces the lock files watched (for the tests).
set -euo pipefail
TIMEOUT="${TWIN_APT_LOCK_TIMEOUT:-600}"
LOCKS="${TWIN_APT_LOCKS:-/var/lib/dpkg/lock-frontend:/var/lib/dpkg/lock:/var/lib/apt/lists/lock:/var/cache/apt/archives/lock}"
deadline=$((SECONDS + TIMEOUT))

# wait_locks SECONDS [quiet]: 0 once no other process holds a lock on any of $LOCKS,
# 1 if one is still held after SECONDS.
wait_locks() {
  python3 - "$1" "${2:-}" "$LOCKS" <<'PY'
import fcntl, os, struct, sys, time

timeout, quiet, paths = float(sys.argv[1]), sys.argv[2] == "quiet", sys.argv[3].split(":")
FLOCK = "hhqqi"  # struct flock on Linux: l_type, l_whence, l_start, l_len, l_pid


def holder(path):
    """The process holding a write-blocking lock on path, as 'pid (name)'; None if free."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        got = fcntl.fcntl(fd, fcntl.F_GETLK, struct.pack(FLOCK, fcntl.F_WRLCK, 0, 0, 0, 0) + bytes(8))
    finally:
        os.close(fd)
    kind, _, _, _, pid = struct.unpack_from(FLOCK, got)
    if kind == fcntl.F_UNLCK:
        return None
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f"{pid} ({f.read().strip()})"
    except OSError:
        return str(pid)


start, told = time.monotonic(), set()
while True:
    held = {p: h for p in paths if p and (h := holder(p))}
    if not held:
        if told and not quiet:
            print(f"apt-get.sh: the package locks are free after {time.monotonic() - start:.0f} s",
                  file=sys.stderr)
        sys.exit(0)
    waited = time.monotonic() - start
    if waited >= timeout:
        if not quiet:
            print(f"apt-get.sh: gave up after {waited:.0f} s: " + ", ".join(
                f"{p} is held by process {h}" for p, h in held.items()), file=sys.stderr)
        sys.exit(1)
    if not quiet:
        for p, h in held.items():
            if p not in told:
                told.add(p)
                print(f"apt-get.sh: waiting (up to {timeout:.0f} s) for {p}, held by process {h}",
                      file=sys.stderr)
    time.sleep(min(1.0, timeout - waited))
PY
}

while true; do
  wait_locks "$((deadline > SECONDS ? deadline - SECONDS : 0))"
  [ $# -eq 0 ] && exit 0
  rc=0
  DEBIAN_FRONTEND=noninteractive apt-get -o "DPkg::Lock::Timeout=$((deadline > SECONDS ? deadline - SECONDS : 0))" \
    "$@" || rc=$?
  [ "$rc" -eq 0 ] && exit 0
  # Retry only when it lost a race for a lock: another process took one between the wait
  # and apt-get's own locking, and holds it still.
  if [ "$SECONDS" -ge "$deadline" ] || wait_locks 0 quiet; then exit "$rc"; fi
  echo "apt-get.sh: apt-get failed while another process took a package lock; retrying" >&2
done
