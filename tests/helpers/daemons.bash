# Daemons that a bats file starts for itself (tests/shard-ssh.bats: sshd; tests/slurm-eval.bats:
# munged, slurmctld, slurmd): each runs in the foreground of a background job with every file
# descriptor away from bats (or bats would wait for it), and its pid and name go into a list
# that daemons_stop reads, so that teardown stops exactly the processes this file started.
#
# Where a daemon cannot run here (not root, package missing, it does not come up),
# daemons_cannot records why and the tests skip with that reason; with
# CNNKIT_REQUIRE_DAEMONS=1 (as .ci/run sets) it is a failure instead.

# daemons_cannot REASON: in setup_file
daemons_cannot() {
	if [ "${CNNKIT_REQUIRE_DAEMONS:-0}" = 1 ]; then
		echo "# $1 (and CNNKIT_REQUIRE_DAEMONS=1)" >&3
		return 1
	fi
	echo "$1" > "$BATS_FILE_TMPDIR/skip-reason"
}

# daemons_skip_unless_up: first line of every test that needs the daemons
daemons_skip_unless_up() {
	if [ -f "$BATS_FILE_TMPDIR/skip-reason" ]; then
		skip "$(cat "$BATS_FILE_TMPDIR/skip-reason")"
	fi
}

# daemon_start LIST LOG COMMAND...: start COMMAND (absolute path) in the background; its pid and
# name are added to LIST.  Started from a subshell that ends at once, so that the daemon's
# parent is init, which reaps it when it ends (no zombie waits for bats to exit).
daemon_start() {
	local list=$1 log=$2
	shift 2
	(
		"$@" < /dev/null > "$log" 2>&1 3>&- 4>&- 5>&- &
		echo "$! ${1##*/}" >> "$list"
	)
}

# daemon_alive PID NAME: running (not a zombie) and still the program we started
daemon_alive() {
	local stat
	stat=$(cat "/proc/$1/stat" 2> /dev/null) || return 1
	[ "$(cat "/proc/$1/comm" 2> /dev/null)" = "${2:0:15}" ] || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}

# daemon_running LIST NAME: the last NAME started from LIST is still running
daemon_running() {
	local pid
	pid=$(awk -v n="$2" '$2 == n { p = $1 } END { print p }' "$1" 2> /dev/null)
	[ -n "$pid" ] && daemon_alive "$pid" "$2"
}

# wait_for SECONDS COMMAND...: run COMMAND every 0.2 s until it succeeds; 1 if it never does
wait_for() {
	local tries=$(($1 * 5))
	shift
	while [ "$tries" -gt 0 ]; do
		"$@" > /dev/null 2>&1 && return 0
		sleep 0.2
		tries=$((tries - 1))
	done
	return 1
}

# port_free PORT ADDRESS: nothing listens there
port_free() {
	! (exec 6<> "/dev/tcp/$2/$1") 2> /dev/null
}

# daemons_stop LIST: SIGTERM to each daemon of LIST, last started first, and to the children
# it forked (an sshd's sessions); SIGKILL to whatever is left after 10 s.  Fails if one could
# not be stopped.
daemons_stop() {
	local list=$1 pid name left=0 i
	[ -f "$list" ] || return 0
	while read -r pid name; do
		daemon_alive "$pid" "$name" || continue
		pkill -TERM -P "$pid" 2> /dev/null || true
		kill -TERM "$pid" 2> /dev/null || true
		for ((i = 0; i < 50; i++)); do
			daemon_alive "$pid" "$name" || break
			sleep 0.2
		done
		if daemon_alive "$pid" "$name"; then
			kill -KILL "$pid" 2> /dev/null || true
			sleep 0.5
		fi
		if daemon_alive "$pid" "$name"; then
			echo "# could not stop $name ($pid)" >&3
			left=1
		fi
	done < <(tac "$list")
	rm -f "$list"
	return "$left"
}
