#!/usr/bin/env bats
# scripts/slurm-eval on a one-node Slurm cluster that this file starts itself from Debian's
# slurm-wlm and munge: a munge key made in a temporary folder and munged on its own socket, a
# slurm.conf for this machine (its real CPUs and memory, from slurmd -C; proctrack/linuxproc,
# task/none, no cgroups, select/cons_tres), slurmctld and slurmd in the foreground with -D -f,
# on free loopback ports, state and spool in the temporary folder.  The segmentation and
# detection reports of the job array + merge job must equal a single run's byte for byte.
# teardown_file cancels every job and stops the daemons, even when a test fails.  Where the
# cluster cannot start (not root, not installed, does not come up) the tests skip with the
# reason; CNNKIT_REQUIRE_DAEMONS=1 makes that a failure.

load helpers/common
load helpers/daemons
bats_require_minimum_version 1.5.0

setup_file() {
	load helpers/common
	load helpers/daemons
	export S="$TOP/samples" SEG="$TOP/models/deeplab-shapes.w" DET="$TOP/models/yolov5n-shapes.w"
	export DAEMONS="$BATS_FILE_TMPDIR/daemons"
	# 16 of the shipped validation images: a few seconds of work in all
	export LIST="$BATS_FILE_TMPDIR/val16.txt"
	head -n 16 "$S/val.txt" > "$LIST"
	if [ "$(id -u)" -ne 0 ]; then
		daemons_cannot "slurm: these tests run slurmctld, slurmd and munged, which need root"
		return
	fi
	local p
	for p in /usr/sbin/munged /usr/sbin/slurmctld /usr/sbin/slurmd /usr/bin/sbatch; do
		if [ ! -x "$p" ]; then
			daemons_cannot "slurm: $p is missing (scripts/install-deps installs slurm-wlm and munge)"
			return
		fi
	done
	# munged wants its socket folder (and the ones above it) open to all, its key private
	CL=$(mktemp -d "${TMPDIR:-/tmp}/cnnkit-slurm.XXXXXX")
	export CL SLURM_CONF="$CL/slurm.conf"
	echo "$CL" > "$BATS_FILE_TMPDIR/cluster-dir"
	chmod 755 "$CL"
	mkdir -m 755 "$CL/munge"
	mkdir "$CL/state" "$CL/spool" "$CL/log"
	head -c 1024 /dev/urandom > "$CL/munge.key"
	chmod 600 "$CL/munge.key"
	daemon_start "$DAEMONS" "$CL/log/munged.log" /usr/sbin/munged -F --key-file="$CL/munge.key" \
		--socket="$CL/munge/munge.sock" --pid-file="$CL/munge/munged.pid" \
		--seed-file="$CL/munge/munged.seed" --log-file="$CL/log/munged.file.log"
	if ! wait_for 10 sh -c "munge -S '$CL/munge/munge.sock' -n | unmunge -S '$CL/munge/munge.sock'"; then
		daemons_cannot "slurm: munged did not come up: $(tail -n 2 "$CL/log/munged.log" | tr '\n' ' ')"
		return
	fi
	local node host port tries
	node=$(/usr/sbin/slurmd -C 2> /dev/null | head -n 1)
	host=$(hostname -s)
	if [[ $node != NodeName=* ]]; then
		daemons_cannot "slurm: slurmd -C cannot describe this machine"
		return
	fi
	for tries in 1 2 3 4 5; do
		port=$((20000 + RANDOM % 40000))
		port_free "$port" 127.0.0.1 && port_free $((port + 1)) 127.0.0.1 || continue
		cat > "$SLURM_CONF" <<-EOF
			ClusterName=cnnkit-test
			SlurmctldHost=$host(127.0.0.1)
			SlurmctldPort=$port
			SlurmdPort=$((port + 1))
			SlurmUser=root
			SlurmdUser=root
			AuthType=auth/munge
			CredType=cred/munge
			AuthInfo=socket=$CL/munge/munge.sock
			StateSaveLocation=$CL/state
			SlurmdSpoolDir=$CL/spool
			SlurmctldPidFile=$CL/slurmctld.pid
			SlurmdPidFile=$CL/slurmd.pid
			SlurmctldLogFile=$CL/log/slurmctld.file.log
			SlurmdLogFile=$CL/log/slurmd.file.log
			ProctrackType=proctrack/linuxproc
			TaskPlugin=task/none
			JobAcctGatherType=jobacct_gather/none
			AccountingStorageType=accounting_storage/none
			JobCompType=jobcomp/none
			MpiDefault=none
			SwitchType=switch/none
			SelectType=select/cons_tres
			SelectTypeParameters=CR_CPU
			SchedulerType=sched/backfill
			ReturnToService=2
			MailProg=/bin/true
			$node NodeAddr=127.0.0.1 State=UNKNOWN
			PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
		EOF
		rm -rf "$CL/state"/* "$CL/spool"/*
		daemon_start "$DAEMONS" "$CL/log/slurmctld.log" /usr/sbin/slurmctld -D -f "$SLURM_CONF"
		daemon_start "$DAEMONS" "$CL/log/slurmd.log" /usr/sbin/slurmd -D -f "$SLURM_CONF"
		if wait_for 30 node_idle; then
			return
		fi
		# a port taken meanwhile? stop both and try others
		daemon_running "$DAEMONS" slurmctld && daemon_running "$DAEMONS" slurmd && break
		stop_slurm
	done
	daemons_cannot "slurm: the node did not become idle: $(tail -n 3 "$CL/log/slurmctld.log" "$CL/log/slurmd.log" | tr '\n' ' ' | head -c 600)"
}

# node_idle: sinfo shows the one node idle
node_idle() {
	[ "$(sinfo -h -N -o %T 2> /dev/null)" = idle ]
}

# stop_slurm: slurmd and slurmctld (last in the list), munged stays
stop_slurm() {
	local keep="$DAEMONS.keep"
	grep -w munged "$DAEMONS" > "$keep" || true
	grep -vw munged "$DAEMONS" > "$DAEMONS.slurm" || true
	daemons_stop "$DAEMONS.slurm"
	mv "$keep" "$DAEMONS"
}

teardown_file() {
	[ -n "${CL:-}" ] || ! [ -f "$BATS_FILE_TMPDIR/cluster-dir" ] || CL=$(cat "$BATS_FILE_TMPDIR/cluster-dir")
	[ -n "${SLURM_CONF:-}" ] || [ -z "${CL:-}" ] || export SLURM_CONF="$CL/slurm.conf"
	# jobs first (their slurmstepd would outlive slurmd), then the daemons
	if [ -n "${CL:-}" ] && [ -f "${SLURM_CONF:-}" ] && daemon_running "$DAEMONS" slurmctld; then
		scancel --full --user="$(id -un)" 2> /dev/null || true
		wait_for 20 sh -c '[ -z "$(squeue -h 2> /dev/null)" ]' || echo "# jobs still in the queue" >&3
	fi
	daemons_stop "$DAEMONS"
	[ -z "${CL:-}" ] || rm -rf "$CL"
}

setup() {
	cd "$BATS_TEST_TMPDIR"
}

# need_cluster: skip unless the cluster is up
need_cluster() {
	daemons_skip_unless_up
	node_idle || wait_for 30 node_idle
}

# job_state ID: a finished job's (or array task's) state, as squeue remembers it
job_state() {
	squeue -h -t all -j "$1" -o %T
}

# job_completed ID: the job ended well
job_completed() {
	[ "$(job_state "$1")" = COMPLETED ]
}

@test "slurm-eval: the cluster is this file's own: one node with this machine's CPUs, a job runs" {
	need_cluster
	run -0 sinfo -h -N -o '%N %c %T'
	[ "$output" = "$(hostname -s) $(nproc) idle" ]
	run -0 scontrol show config
	assert_output --regexp "ClusterName += cnnkit-test"
	assert_output --partial "$CL/state"
	run -0 sbatch --parsable --wait -o "$PWD/hello.log" --wrap 'echo "hello from $SLURM_JOB_ID"'
	grep -qx "hello from $output" hello.log
}

@test "slurm-eval: segmentation in 4 array tasks and a merge job equals the single run byte for byte" {
	need_cluster
	# the single run on this machine
	sed "s|.*|$S/images/&.jpg|" "$LIST" > images.txt
	mkdir pred
	infer-seg -q -t 1 -m "$SEG" --list images.txt -O pred
	evaluate-miou -q -n 4 --list "$LIST" --gt-dir "$S/masks" --pred-dir pred \
		--save-state single.state --names "$S/seg-names.txt" > single.txt
	grep -q '(16 images, ' single.txt
	mkdir tmp
	TMPDIR=$PWD/tmp run -0 --separate-stderr "$TOP/scripts/slurm-eval" -m "$SEG" --list "$LIST" \
		--images "$S/images" --gt-dir "$S/masks" --shards 4 -o out
	# the model's class names, without --names
	grep -q '^triangle ' out/report
	# the tasks (which get this environment) left no temporary folder
	[ -z "$(ls -A tmp)" ]
	[ -z "$stderr" ]
	echo "$output" > printed.txt
	cmp single.txt printed.txt
	cmp single.txt out/report
	cmp single.state out/miou.state
	# it went through Slurm: 4 array tasks and a merge job, all completed, each with its log
	local logs array merge k
	logs=$(cd out/logs && ls)
	[ "$(grep -c '^shard-' <<< "$logs")" -eq 4 ]
	[ "$(grep -c '^merge-' <<< "$logs")" -eq 1 ]
	merge=$(sed -n 's/^merge-\([0-9]*\)\.log$/\1/p' <<< "$logs")
	array=$(sed -n 's/^shard-\([0-9]*\)_1\.log$/\1/p' <<< "$logs")
	for k in 1 2 3 4; do
		[ "$(job_state "${array}_$k")" = COMPLETED ]
	done
	[ "$(job_state "$merge")" = COMPLETED ]
	# the merge job was submitted with the array as its afterok dependency (its name in squeue)
	[ "$(squeue -h -t all -j "$merge" -o %j)" = slurm-eval-merge ]
	# no work folder or temporary left
	[ -z "$(find out -name '.*' ! -name . )" ]
}

@test "slurm-eval --no-wait: detection; the merge job waits on the array; boxes and report equal one run's" {
	need_cluster
	sed "s|.*|$S/images/&.jpg|" "$LIST" > images.txt
	infer-detect -t 1 -m "$DET" --list images.txt -f jsonl --conf 0.001 --iou 0.6 --multi-label \
		-o single.jsonl
	evaluate-map --labels "$S/labels" -n 3 --names "$S/det-names.txt" --json single.jsonl > single.json
	run -0 --separate-stderr "$TOP/scripts/slurm-eval" -m "$DET" --list "$LIST" \
		--images "$S/images" --gt-dir "$S/labels" --shards 3 -o out --no-wait -- --json
	[[ "$output" =~ ^[0-9]+$ ]]
	local merge=$output
	# right after submission: the merge job waits for the array to succeed
	run -0 scontrol -o show job "$merge"
	[[ "$output" == *"JobState=PENDING Reason=Dependency "* ]]
	[[ "$output" =~ Dependency=afterok:[0-9]+_\* ]]
	wait_for 120 job_completed "$merge"
	cmp single.jsonl out/detections.jsonl
	cmp single.json out/report
	jq -e '.num_classes == 3 and .detections > 0' out/report
	# the model's class names, without --names
	jq -e '[.classes[].name] == ["disc", "rectangle", "triangle"]' out/report
	[ "$(ls out/logs | grep -c '^shard-')" -eq 3 ]
	[ -z "$(find out -name '.*' ! -name . )" ]
}

@test "slurm-eval: a failing shard prints its log, cancels the merge, exit 1, no report" {
	need_cluster
	{ head -n 4 "$LIST"; echo nothere; } > bad.txt
	run -1 --separate-stderr "$TOP/scripts/slurm-eval" -m "$SEG" --list bad.txt \
		--images "$S/images" --gt-dir "$S/masks" --shards 2 -o out
	[ -z "$output" ]
	[[ "$stderr" == *"nothere.jpg"* ]]
	[[ "$stderr" == *"slurm-eval: shard 2 ("*") failed; its log: $PWD/out/logs/shard-"* ]]
	assert_file_not_exists out/report
	assert_file_not_exists out/miou.state
	[ -z "$(find out -name '.*' ! -name . )" ]
	# the merge job never ran
	local array
	array=$(cd out/logs && ls shard-*_1.log | sed 's/shard-\([0-9]*\)_1.log/\1/')
	[ "$(job_state "${array}_2")" = FAILED ]
	run -0 squeue -h -t all -o '%j %T'
	assert_line "slurm-eval-merge CANCELLED"
	# a report of an earlier run is left as it was
	echo earlier > out/report
	run -1 --separate-stderr "$TOP/scripts/slurm-eval" -m "$SEG" --list bad.txt \
		--images "$S/images" --gt-dir "$S/masks" --shards 2 -o out
	[ "$(cat out/report)" = earlier ]
}

@test "slurm-eval: a failing merge job prints its log, exit 1; an interrupt cancels the jobs" {
	need_cluster
	head -n 4 "$LIST" > four.txt
	run -1 --separate-stderr "$TOP/scripts/slurm-eval" -m "$SEG" --list four.txt \
		--images "$S/images" --gt-dir "$S/masks" --shards 2 -o out -- --names nothere-names.txt
	[ -z "$output" ]
	[[ "$stderr" == *"nothere-names.txt"* ]]
	[[ "$stderr" == *"slurm-eval: merge job "*" failed; its log: $PWD/out/logs/merge-"* ]]
	assert_file_not_exists out/report
	[ -z "$(find out -name '.*' ! -name . )" ]
	# SIGTERM while it waits: both jobs cancelled, status 130, nothing left
	"$TOP/scripts/slurm-eval" -m "$SEG" --list "$LIST" --images "$S/images" --gt-dir "$S/masks" \
		--shards 4 -o out2 < /dev/null > int.out 2> int.err 3>&- &
	local pid=$! rc=0 merge
	wait_for 20 sh -c 'squeue -h -n slurm-eval-merge -t pending,running | grep -q .'
	kill -TERM "$pid"
	wait "$pid" || rc=$?
	[ "$rc" -eq 130 ]
	grep -q 'slurm-eval: interrupted: job(s) [0-9]* [0-9]* cancelled' int.err
	merge=$(sed -n 's/.*job(s) [0-9]* \([0-9]*\) cancelled/\1/p' int.err)
	wait_for 20 sh -c '[ -z "$(squeue -h -t pending,running)" ]'
	[ "$(job_state "$merge")" = CANCELLED ]
	assert_file_not_exists out2/report
	[ -z "$(find out2 -name '.*' ! -name . )" ]
}

@test "slurm-eval: bad usage exits 2, bad input 1, with one line and nothing submitted" {
	local se="$TOP/scripts/slurm-eval"
	run -0 "$se" --help
	assert_output --partial '--shards K'
	assert_output --partial '--dependency=afterok'
	run -2 --separate-stderr "$se" -m "$SEG" --list "$LIST" --images "$S/images"
	[ "$stderr" = "slurm-eval: give -m MODEL.w, --list FILE, --images DIR and --gt-dir DIR (try --help)" ]
	run -2 --separate-stderr "$se" -m "$SEG" --list "$LIST" --images "$S/images" --gt-dir "$S/masks" --shards x
	[[ "$stderr" == "slurm-eval: -n, --shards and -t take whole numbers, not 'x' (try --help)" ]]
	run -2 --separate-stderr "$se" -m "$SEG" --list "$LIST" --images "$S/images" --gt-dir "$S/masks" --shards 0
	run -2 --separate-stderr "$se" -m "$DET" --list "$LIST" --images "$S/images" --gt-dir "$S/labels" --conf high
	run -2 --separate-stderr "$se" --frobnicate
	[ "$stderr" = "slurm-eval: unknown argument --frobnicate (try --help)" ]
	if command -v sbatch > /dev/null; then
		run -1 --separate-stderr "$se" -m "$SEG" --list nothere.txt --images "$S/images" --gt-dir "$S/masks" -o out
		[ "$stderr" = "slurm-eval: nothere.txt: cannot read" ]
		run -1 --separate-stderr "$se" -m "$LIST" --list "$LIST" --images "$S/images" --gt-dir "$S/masks" -o out
		[ "$stderr" = "slurm-eval: $LIST: not a model file weightconv can read" ]
		: > empty.txt
		run -1 --separate-stderr "$se" -m "$SEG" --list empty.txt --images "$S/images" --gt-dir "$S/masks" -o out
		[ "$stderr" = "slurm-eval: empty.txt: no image names" ]
		[ -z "$(find out -name '.*' ! -name . 2> /dev/null)" ]
		run -2 --separate-stderr "$se" -m "$DET" --list "$LIST" --images "$S/images" --gt-dir "$S/labels" --gt-ext txt
	else
		# without Slurm's commands it says so
		run -1 --separate-stderr "$se" -m "$SEG" --list "$LIST" --images "$S/images" --gt-dir "$S/masks"
		[[ "$stderr" == "slurm-eval: sbatch not found"* ]]
	fi
	[ ! -e out/report ]
}

@test "make install puts slurm-eval beside shard-eval" {
	run -0 make -s -C "$TOP" BUILD="${BUILD:-build}" PREFIX=/usr DESTDIR="$PWD/root" install
	[ -x root/usr/share/cnnkit/slurm-eval ]
	[ -x root/usr/share/cnnkit/shard-eval ]
	cmp "$TOP/scripts/slurm-eval" root/usr/share/cnnkit/slurm-eval
}
