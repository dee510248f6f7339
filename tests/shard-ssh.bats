#!/usr/bin/env bats
# scripts/shard-eval over real ssh: this file starts an OpenSSH server of its own (Debian's
# openssh-server, run as root with -D -f CONFIG): its own host key and a user key made in a
# temporary folder, listening on 127.0.0.2 and 127.0.0.3 (two "machines") on a free port, no
# PAM, keys only.  shard-eval sends each shard's names to the machines through ssh (its --ssh
# option, or GNU parallel's PARALLEL_SSH) and gets the states back the same way; the merged
# report must equal a single run's byte for byte.  teardown_file stops the server, even when a
# test fails.  Where sshd cannot run (not root, not installed, does not come up) the tests skip
# with the reason; CNNKIT_REQUIRE_DAEMONS=1 makes that a failure.

load helpers/common
load helpers/daemons
bats_require_minimum_version 1.5.0

setup_file() {
	load helpers/common
	load helpers/daemons
	export S="$TOP/samples" SEG="$TOP/models/deeplab-shapes.w"
	# 16 of the shipped validation images: a few seconds of work in all
	export LIST="$BATS_FILE_TMPDIR/val16.txt"
	head -n 16 "$S/val.txt" > "$LIST"
	export SSHT="$BATS_FILE_TMPDIR/ssh" DAEMONS="$BATS_FILE_TMPDIR/daemons"
	mkdir -p "$SSHT"
	if [ "$(id -u)" -ne 0 ]; then
		daemons_cannot "sshd: these tests run an OpenSSH server, which needs root"
		return
	fi
	if [ ! -x /usr/sbin/sshd ] || ! command -v ssh-keygen > /dev/null; then
		daemons_cannot "sshd: openssh-server is not installed (scripts/install-deps installs it)"
		return
	fi
	# the privilege separation folder Debian's init script would make
	[ -d /run/sshd ] || mkdir -p -m 0755 /run/sshd
	ssh-keygen -q -t ed25519 -N '' -C cnnkit-test-host -f "$SSHT/host_key"
	ssh-keygen -q -t ed25519 -N '' -C cnnkit-test-user -f "$SSHT/user_key"
	ssh-keygen -q -t ed25519 -N '' -C cnnkit-test-stranger -f "$SSHT/stranger_key"
	cp "$SSHT/user_key.pub" "$SSHT/authorized_keys"
	echo "cnnkit-test-sshd $(cut -d' ' -f1,2 "$SSHT/host_key.pub")" > "$SSHT/known_hosts"
	# The "remote" PATH: cnnkit's programs, with an infer-seg in front that notes the ssh
	# connection it runs in, so the tests can see where each shard ran.
	mkdir -p "$SSHT/remote-bin" "$SSHT/remote-tmp"
	cat > "$SSHT/remote-bin/infer-seg" <<-EOF
		#!/bin/sh
		echo "\${SSH_CONNECTION:-not over ssh}" >> "$SSHT/shards.log"
		exec "$BUILD_DIR/bin/infer-seg" "\$@"
	EOF
	chmod +x "$SSHT/remote-bin/infer-seg"
	local user port tries
	user=$(id -un)
	for tries in 1 2 3 4 5; do
		port=$((20000 + RANDOM % 40000))
		port_free "$port" 127.0.0.2 && port_free "$port" 127.0.0.3 || continue
		cat > "$SSHT/sshd_config" <<-EOF
			ListenAddress 127.0.0.2:$port
			ListenAddress 127.0.0.3:$port
			HostKey $SSHT/host_key
			PidFile none
			AuthorizedKeysFile $SSHT/authorized_keys
			PubkeyAuthentication yes
			PasswordAuthentication no
			KbdInteractiveAuthentication no
			PermitRootLogin prohibit-password
			UsePAM no
			StrictModes no
			AllowUsers $user
			X11Forwarding no
			AllowTcpForwarding no
			PrintMotd no
			MaxStartups 50
			MaxSessions 50
			SetEnv PATH=$SSHT/remote-bin:$BUILD_DIR/bin:/usr/local/bin:/usr/bin:/bin TMPDIR=$SSHT/remote-tmp
			LogLevel VERBOSE
		EOF
		rm -f "$SSHT/ssh_config"
		local h
		for h in a:127.0.0.2 b:127.0.0.3; do
			cat >> "$SSHT/ssh_config" <<-EOF
				Host node-${h%%:*}
				    HostName ${h#*:}
				    Port $port
				    User $user
				    IdentityFile $SSHT/user_key
				    IdentitiesOnly yes
				    HostKeyAlias cnnkit-test-sshd
				    UserKnownHostsFile $SSHT/known_hosts
				    GlobalKnownHostsFile /dev/null
				    StrictHostKeyChecking yes
				    BatchMode yes
				    ConnectTimeout 10
				    LogLevel ERROR
			EOF
		done
		# a client with a key the server does not know
		sed "s|$SSHT/user_key|$SSHT/stranger_key|" "$SSHT/ssh_config" > "$SSHT/stranger_config"
		if ! /usr/sbin/sshd -t -f "$SSHT/sshd_config" 2> "$SSHT/sshd-t.err"; then
			daemons_cannot "sshd: rejects its configuration: $(head -c 300 "$SSHT/sshd-t.err")"
			return
		fi
		daemon_start "$DAEMONS" "$SSHT/sshd.out" /usr/sbin/sshd -D -f "$SSHT/sshd_config" -E "$SSHT/sshd.log"
		if wait_for 10 ssh -F "$SSHT/ssh_config" node-a true &&
			wait_for 10 ssh -F "$SSHT/ssh_config" node-b true; then
			export SSH_PORT=$port
			return
		fi
		daemons_stop "$DAEMONS" # a port taken meanwhile? try another
	done
	daemons_cannot "sshd: did not come up: $(tail -n 3 "$SSHT/sshd.log" "$SSHT/sshd.out" 2> /dev/null | tr '\n' ' ' | head -c 400)"
}

teardown_file() {
	daemons_stop "$DAEMONS"
}

setup() {
	cd "$BATS_TEST_TMPDIR"
}

# need_sshd: skip unless the server is up; make the single run on this machine that every
# sharded report must equal (once)
need_sshd() {
	daemons_skip_unless_up
	: > "$SSHT/shards.log"
	if [ ! -f "$BATS_FILE_TMPDIR/single.state" ]; then
		sed "s|.*|$S/images/&.jpg|" "$LIST" > images.txt
		mkdir pred
		infer-seg -q -t 1 -m "$SEG" --list images.txt -O pred
		evaluate-miou -q -n 4 --list "$LIST" --gt-dir "$S/masks" --pred-dir pred \
			--save-state "$BATS_FILE_TMPDIR/single.state" > /dev/null
	fi
}

# sessions: the number of commands the server ran
sessions() {
	grep -c 'Starting session: command' "$SSHT/sshd.log"
}

@test "shard-ssh: the server is a real sshd of this file's own, reached by key on 127.0.0.2 and 127.0.0.3" {
	need_sshd
	need_sshd
	run -0 ssh -F "$SSHT/ssh_config" node-a 'echo "$SSH_CONNECTION"; command -v infer-seg'
	[[ "${lines[0]}" == *" 127.0.0.2 $SSH_PORT" ]]
	[ "${lines[1]}" = "$SSHT/remote-bin/infer-seg" ]
	run -0 ssh -F "$SSHT/ssh_config" node-b 'echo "$SSH_CONNECTION"'
	[[ "$output" == *" 127.0.0.3 $SSH_PORT" ]]
	grep -q "Accepted publickey for $(id -un) from 127.0.0.1" "$SSHT/sshd.log"
	# an unknown key is refused, and no password gets in
	run -255 ssh -F "$SSHT/stranger_config" node-a true
	assert_output --partial 'Permission denied'
	run -255 ssh -F "$SSHT/stranger_config" -o PreferredAuthentications=password node-a true
	assert_output --partial 'Permission denied'
}

@test "shard-eval --ssh: 4 shards on two machines over ssh, merged, equal the single run byte for byte" {
	need_sshd
	local before
	before=$(sessions)
	run -0 --separate-stderr "$TOP/scripts/shard-eval" -m "$SEG" --list "$LIST" \
		--images "$S/images" --gt-dir "$S/masks" --shards 4 -j 1 -S node-a,node-b \
		--ssh "ssh -F $SSHT/ssh_config" --state merged.state -- --names "$S/seg-names.txt"
	echo "$output" > sharded.txt
	evaluate-miou -m "$SEG" --merge "$BATS_FILE_TMPDIR/single.state" | cmp - sharded.txt
	cmp merged.state "$BATS_FILE_TMPDIR/single.state"
	grep -q '(16 images, ' sharded.txt
	# every shard ran in an ssh session, on both machines, none on this one
	[ "$(wc -l < "$SSHT/shards.log")" -eq 4 ]
	! grep -q 'not over ssh' "$SSHT/shards.log"
	grep -q " 127.0.0.2 $SSH_PORT\$" "$SSHT/shards.log"
	grep -q " 127.0.0.3 $SSH_PORT\$" "$SSHT/shards.log"
	[ "$(sessions)" -ge $((before + 4)) ]
	# the shards left no temporary folder on the machines
	[ -z "$(ls -A "$SSHT/remote-tmp")" ]
}

@test "shard-eval: parallel's PARALLEL_SSH works too, with JSON out and the local machine in the mix" {
	need_sshd
	mkdir tmp
	TMPDIR=$PWD/tmp PARALLEL_SSH="ssh -F $SSHT/ssh_config" run -0 --separate-stderr "$TOP/scripts/shard-eval" \
		-m "$SEG" --list "$LIST" --images "$S/images" --gt-dir "$S/masks" --shards 3 -j 1 \
		-S node-b,: -- --json
	echo "$output" > sharded.json
	evaluate-miou -m "$SEG" --merge "$BATS_FILE_TMPDIR/single.state" --json | cmp - sharded.json
	jq -e '.images == 16' sharded.json
	grep -q " 127.0.0.3 $SSH_PORT\$" "$SSHT/shards.log"
	# no temporary folder left, here or there
	[ -z "$(find tmp "$SSHT/remote-tmp" -mindepth 1)" ]
}

@test "shard-eval over ssh: a shard failing on a remote machine stops the run, exit 1, its message, no state" {
	need_sshd
	{ cat "$LIST"; echo nothere; } > bad.txt
	run -1 --separate-stderr "$TOP/scripts/shard-eval" -m "$SEG" --list bad.txt \
		--images "$S/images" --gt-dir "$S/masks" --shards 2 -j 1 -S node-a \
		--ssh "ssh -F $SSHT/ssh_config" --state bad.state
	[[ "$stderr" == *"nothere.jpg"* ]]
	[[ "$stderr" == *"shard-eval: a shard failed"* ]]
	[ -z "$output" ]
	assert_file_not_exists bad.state
	wait_for 5 sh -c '[ -z "$(ls -A "$0")" ]' "$SSHT/remote-tmp"
	# a machine that refuses the login fails the run the same way
	run -1 --separate-stderr "$TOP/scripts/shard-eval" -m "$SEG" --list "$LIST" \
		--images "$S/images" --gt-dir "$S/masks" --shards 2 -j 1 -S node-a \
		--ssh "ssh -F $SSHT/stranger_config" --state bad.state
	[[ "$stderr" == *"Permission denied"* ]]
	[[ "$stderr" == *"shard-eval: a shard failed"* ]]
	[ -z "$output" ]
	assert_file_not_exists bad.state
}

@test "shard-eval --help documents --ssh; --ssh needs a value" {
	run -0 "$TOP/scripts/shard-eval" --help
	assert_output --partial '--ssh CMD'
	assert_output --partial 'PARALLEL_SSH'
	run -2 --separate-stderr "$TOP/scripts/shard-eval" -m "$SEG" --list "$LIST" --ssh
	[[ "$stderr" == "shard-eval: --ssh needs a value"* ]]
}
