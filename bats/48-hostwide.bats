#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Host-wide RDS (issue 12): with MPRDS_ENGINE=daemon every process of a host is served by one
# mprdsd. Two hosts on one machine: instance A on $NET.40, instance B on $NET.41, each a
# daemon of its own, talking RDS/TCP as two machines would.

load helpers

setup() {
	mprds_setup
	need_progs rds_echo rds_stream rds_seqcheck rds_send_check
	export MPRDS_ENGINE=daemon MPRDS_IDLE_EXIT=30 # teardown kills them by PID
	export MPRDS_DAEMON_LOG="$BATS_TEST_TMPDIR/mprdsd.log"
	IA="hwA$$x$BATS_TEST_NUMBER" IB="hwB$$x$BATS_TEST_NUMBER"
	A=$NET.40 B=$NET.41
}

# daemon_pids INSTANCE: the pids of processes listening on INSTANCE's rendezvous name.
daemon_pids() {
	ss -xlpH | grep -F "@mprdsd." | grep -F ".$1 " | grep -o 'pid=[0-9]*' | cut -d= -f2 |
		sort -u
}

teardown() {
	local pid
	mprds_teardown
	for pid in $(daemon_pids "$IA") $(daemon_pids "$IB"); do
		kill -KILL "$pid" 2>/dev/null || true
	done
	[[ -f $MPRDS_DAEMON_LOG ]] && sed 's/^/# daemon: /' "$MPRDS_DAEMON_LOG" | tail -n 40 >&3 ||
		true
}

# on HOST PROG ARGS...: runs PROG under the shim as a process of host A or B.
on() {
	local inst=$IA
	[[ $1 == B ]] && inst=$IB
	shift
	MPRDS_INSTANCE=$inst "$MPRDS_RUN" "$@"
}

@test "two unrelated programs (C, python3) on one address get their own messages; a third gets EADDRINUSE; 8 TCP paths for all" {
	start_bg crecv MPRDS_INSTANCE="$IB" "$PROGS/rds_stream" -m recv -n 8 -c 40 -s 4000 -t 30 \
		"$B" 5000 "$A" 6000
	start_bg pyecho MPRDS_INSTANCE="$IB" "$PY" "$BATS_TEST_DIRNAME/py/rds_echo.py" "$B" 5100 3 20
	wait_for_line crecv '^ready'
	wait_for_line pyecho '^ready'
	run on B "$PY" -c "
import socket
s = socket.socket(21, socket.SOCK_SEQPACKET, 0)
try:
    s.bind(('$B', 5000))
    print('bound')
except OSError as e:
    print('errno', e.errno)"
	assert_output "errno 98"
	start_bg csend MPRDS_INSTANCE="$IA" "$PROGS/rds_stream" -m send -n 8 -c 40 -s 4000 -t 30 \
		"$A" 6000 "$B" 5000
	run on A "$PROGS/rds_send_check" "$A" 6100 "$B" 5100 0 1 8192
	assert_success
	assert_output --partial "all 3 sizes ok"
	assert_exits_ok csend 30
	assert_exits_ok crecv 30
	assert_exits_ok pyecho 20
	assert_conns "$A" "$B" 8
	# one daemon per host served them all
	assert_equal "$(daemon_pids "$IB" | wc -l)" 1
	assert_equal "$(daemon_pids "$IA" | wc -l)" 1
}

@test "rds-stress style: 4 forked tasks bind their own ports on ONE address; a child uses the inherited socket; the parent still works" {
	start_bg echo MPRDS_INSTANCE="$IB" "$PROGS/rds_echo" "$B" 5200 0 20
	wait_for_line echo '^ready'
	run on A "$PY" "$BATS_TEST_DIRNAME/py/hostwide_fork.py" "$A" 7000 "$B" 5200 4 50
	echo "$output"
	assert_success
	for i in 0 1 2 3; do
		assert_line "task $i ok 50 echoes"
	done
	assert_line "inherited socket ok"
	assert_line "parent ok"
	assert_line "all ok"
}

@test "kill -9 of one client mid-stream: another client on the same address loses nothing; the killed client's ports are free again" {
	start_bg recv MPRDS_INSTANCE="$IB" "$PROGS/rds_seqcheck" recv -n 4 -c 4000 -t 40 "$B" 5300 "$A" 6300
	start_bg sink MPRDS_INSTANCE="$IB" "$PROGS/rds_seqcheck" recv -g -n 4 -c 0 -t 40 "$B" 5400 "$A" 6400
	wait_for_line recv '^ready'
	wait_for_line sink '^ready'
	start_bg victim MPRDS_INSTANCE="$IA" "$PROGS/rds_seqcheck" send -n 4 -c 0 -d 30 "$A" 6400 "$B" 5400
	start_bg good MPRDS_INSTANCE="$IA" "$PROGS/rds_seqcheck" send -n 4 -c 4000 -r 2000 -t 40 "$A" 6300 "$B" 5300
	wait_for_line sink '^first' 10
	sleep 0.5
	kill_tree "$(pid_of victim)" KILL
	assert_exits_ok good 40
	assert_exits_ok recv 40
	grep -q "recv total=4000 dups=0 reorder=0 gaps=0 errors=0" "$(log_of recv)" ||
		fail_with_logs "the other client's stream was not whole"
	# the victim's ports are the host's again (bounded: the daemon sees its channel close)
	run on A "$PY" -c "
import socket, time
for t in range(50):
    try:
        socks = [socket.socket(21, socket.SOCK_SEQPACKET, 0) for i in range(4)]
        for i, s in enumerate(socks):
            s.bind(('$A', 6400 + i))
        print('rebound')
        break
    except OSError as e:
        err = e.errno
        time.sleep(0.1)
else:
    print('errno', err)"
	assert_output "rebound"
}

@test "a sender that _exit()s right after sendto: the peer receives the message" {
	start_bg echo MPRDS_INSTANCE="$IB" "$PROGS/rds_echo" "$B" 5500 1 20
	wait_for_line echo '^ready'
	run on A "$PY" -c "
import os, socket
s = socket.socket(21, socket.SOCK_SEQPACKET, 0)
s.bind(('$A', 6500))
s.sendto(b'x' * 60000, ('$B', 5500))
os._exit(0)"
	assert_success
	assert_exits_ok echo 20
	grep -q "echo len=60000 from=$A:6500" "$(log_of echo)" || fail_with_logs "not received"
}

@test "16 processes whose first socket() runs at the same moment: one daemon serves them all" {
	local i
	for i in $(seq 0 15); do
		start_bg "p$i" MPRDS_INSTANCE="$IA" "$PY" -c "
import socket, time
time.sleep(max(0, $(date +%s) + 1 - time.time()))
s = socket.socket(21, socket.SOCK_SEQPACKET, 0)
s.settimeout(10)
s.bind(('$A', 7100 + $i))
s.sendto(b'me $i', ('$A', 7100 + $i))
print(s.recvfrom(100)[0].decode())"
	done
	for i in $(seq 0 15); do
		assert_exits_ok "p$i" 20
		grep -qx "me $i" "$(log_of "p$i")" || fail_with_logs "p$i not served"
	done
	assert_equal "$(daemon_pids "$IA" | wc -l)" 1
}

@test "RDS_INFO is host-wide: a third program sees both processes' sockets, the connection and the counters" {
	start_bg e1 MPRDS_INSTANCE="$IB" "$PROGS/rds_echo" "$B" 5600 0 20
	start_bg e2 MPRDS_INSTANCE="$IB" "$PY" "$BATS_TEST_DIRNAME/py/rds_echo.py" "$B" 5601 0 20
	wait_for_line e1 '^ready'
	wait_for_line e2 '^ready'
	run on A "$PROGS/rds_send_check" "$A" 6600 "$B" 5600 0 1
	assert_success
	# ports 5600 (C) and 5601 (python3) from one program of host B; ping and pong counted
	run on B "$PY" -c "
import ctypes, socket, struct
libc = ctypes.CDLL(None, use_errno=True)
s = socket.socket(21, socket.SOCK_SEQPACKET, 0)
def info(name):  # Python's getsockopt() takes at most 1024 bytes: ask libc (the shim)
    buf, n = ctypes.create_string_buffer(65536), ctypes.c_uint(65536)
    if libc.getsockopt(s.fileno(), 276, name, buf, ctypes.byref(n)) < 0:
        raise OSError(ctypes.get_errno(), 'getsockopt %d' % name)
    return buf.raw[:n.value]
socks = info(10006)
ports = sorted(struct.unpack_from('>H', socks, i + 12)[0] for i in range(0, len(socks), 28))
print('ports', ' '.join(str(p) for p in ports))
print('connections', len(info(10001)) // 42)
ctrs = info(10000)
c = {ctrs[i:i + 32].rstrip(b'\\0').decode(): struct.unpack_from('=Q', ctrs, i + 32)[0]
     for i in range(0, len(ctrs), 40)}
print('recv_delivered', c['recv_delivered'] >= 2, 'send_queued', c['send_queued'] >= 2)"
	echo "$output"
	assert_success
	assert_line "ports 5600 5601"
	assert_line "connections 1"
	assert_line "recv_delivered True send_queued True"
}

@test "an RDS fd passed with SCM_RIGHTS to an unrelated process is the same socket there, though the giver closed its copy at once" {
	local sock="$BATS_TEST_TMPDIR/pass.sock"
	start_bg give MPRDS_INSTANCE="$IA" "$PY" "$BATS_TEST_DIRNAME/py/pass_rds_fd.py" give "$sock" "$A" 6700
	wait_for_line give '^ready'
	run on A "$PY" "$BATS_TEST_DIRNAME/py/pass_rds_fd.py" take "$sock" "$A" 6700
	echo "$output"
	assert_success
	assert_line "name $A 6700"
	assert_line "got through a passed fd from $A 6700"
	assert_exits_ok give 10
	grep -qx "given, own copy closed" "$(log_of give)" || fail_with_logs "the giver did not close"
}

@test "hostile clients hurt only themselves: garbage on the channel, a stalled half request, a client past its socket limit" {
	# the first client starts host B's daemon: its limit is 50 sockets a client
	start_bg echo MPRDS_CLIENT_SOCKETS=50 MPRDS_INSTANCE="$IB" "$PROGS/rds_echo" "$B" 5800 0 20
	wait_for_line echo '^ready'
	# garbage after a good hello, and a client that sends half a request and stops
	run "$PY" - "$IB" <<-'PYEOF'
		import os, socket, struct, sys, time
		name = "\0mprdsd.%d.%s" % (os.stat("/proc/self/ns/net").st_ino, sys.argv[1])
		def client():
		    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
		    s.settimeout(5)
		    s.connect(name)
		    s.send(struct.pack("=II", 0x6d707264, 2))
		    assert len(s.recv(64)) == 28
		    return s
		bad = client()
		bad.send(struct.pack("=IHHIiiiIIQ", 40, 999, 0, 0, 0, 0, 0, 0, 0, 0))
		print("garbage: dropped" if bad.recv(64) == b"" else "garbage: answered")
		half = client()
		half.send(struct.pack("=IHH", 1000, 5, 0))
		time.sleep(0.5)
		print("half request: held")
	PYEOF
	assert_success
	assert_line "garbage: dropped"
	# the daemon still serves everyone else
	run on A "$PROGS/rds_send_check" "$A" 6800 "$B" 5800 0 1 8192
	assert_success
	# a client past MPRDS_CLIENT_SOCKETS gets EMFILE; the other clients do not notice
	run on B "$PY" -c "
import socket
socks = []
try:
    for i in range(100):
        socks.append(socket.socket(21, socket.SOCK_SEQPACKET, 0))
except OSError as e:
    print('socket', len(socks) + 1, 'errno', e.errno)"
	assert_output "socket 51 errno 24"
	run on A "$PROGS/rds_send_check" "$A" 6801 "$B" 5800 0 1
	assert_success
}

@test "a client whose sockets hold more than MPRDS_CLIENT_MIB queued gets ENOBUFS; another client of the daemon, meanwhile, queues its own" {
	# host A's daemon, its limit 1 MiB a client; $NET.49 is served by nobody, so what A's
	# clients send there stays queued (the engine keeps trying to connect)
	local flood='
import errno, socket, sys, time
socks = []
for i in range(16):
    s = socket.socket(21, socket.SOCK_SEQPACKET, 0)
    s.bind((sys.argv[1], int(sys.argv[2]) + i))
    s.setblocking(False)
    socks.append(s)
queued, enobufs, eagain, msg = 0, 0, 0, b"x" * 8192
for rnd in range(200):
    for s in socks:
        try:
            s.sendto(msg, (sys.argv[3], 4000))
            queued += len(msg)
        except OSError as e:
            if e.errno == errno.ENOBUFS: enobufs += 1
            elif e.errno == errno.EAGAIN: eagain += 1
            else: raise
print("queued", queued, "enobufs", enobufs, "eagain", eagain, flush=True)
time.sleep(float(sys.argv[4]))'
	local out2
	start_bg first MPRDS_INSTANCE="$IA" MPRDS_CLIENT_MIB=1 "$PY" -c "$flood" "$A" 7000 "$NET.49" 20
	wait_for_line first '^queued' 20
	echo "# first client: $(cat "$(log_of first)")" >&3
	[[ $(cat "$(log_of first)") =~ ^queued\ ([0-9]+)\ enobufs\ ([0-9]+) ]] ||
		fail_with_logs "no summary"
	((BASH_REMATCH[1] <= (1 << 20) && BASH_REMATCH[2] > 0)) ||
		fail_with_logs "want at most 1 MiB queued and ENOBUFS after it"
	# while the first holds its MiB, a second client queues its own
	out2=$(on A "$PY" -c "$flood" "$A" 7100 "$NET.49" 0)
	echo "# second client: $out2" >&3
	[[ $out2 =~ ^queued\ ([0-9]+)\ enobufs ]] && ((BASH_REMATCH[1] > 512 * 1024)) ||
		fail_with_logs "the second client could not queue: $out2"
	proc_alive "$(pid_of first)" || fail_with_logs "the first client did not hold its queue"
}

@test "an RDS fd across exec is the same socket in the new image: inetd style (fork, exec, the parent closes its copy; execv, execl, execlp) and subprocess pass_fds" {
	# host B's peer sends to A's port and waits for the answer from whoever holds it
	local child='
import socket, sys
s = socket.socket(21, socket.SOCK_SEQPACKET, 0, fileno=int(sys.argv[1]))
s.settimeout(20)
data, addr = s.recvfrom(100)
s.sendto(b"from the exec image: " + data, addr)
print("exec image", sys.argv[2], "got", data.decode(), "from", addr[0], flush=True)'
	local parent='
import ctypes, os, socket, subprocess, sys
py, child, a, port, how = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
s = socket.socket(21, socket.SOCK_SEQPACKET, 0)
s.bind((a, port))
fd = s.fileno()
if how != "subprocess":
    os.set_inheritable(fd, True)
    pid = os.fork()
    if pid == 0:
        if how == "fork":
            os.execv(py, [py, "-c", child, str(fd), how])
        # execl or execlp, variadic as a C program calls them: shim/exec.c interposes both
        args = [w.encode() for w in (py, py, "-c", child, str(fd), how)]
        getattr(ctypes.CDLL(None), how)(*args, None)
        os._exit(127)
    s.close()  # inetd style: the child holds the only fd now
    _, status = os.waitpid(pid, 0)
    print("child status", status, flush=True)
else:
    p = subprocess.Popen([py, "-c", child, str(fd), how], pass_fds=[fd])
    s.close()
    print("child status", p.wait(timeout=30), flush=True)'
	local how port=7300
	for how in fork execl execlp subprocess; do
		start_bg "exec-$how" MPRDS_INSTANCE="$IA" "$PY" -c "$parent" "$PY" "$child" "$A" \
			"$port" "$how"
		sleep 0.5
		run on B "$PY" -c "
import socket
s = socket.socket(21, socket.SOCK_SEQPACKET, 0)
s.bind(('$B', $port))
s.settimeout(20)
s.sendto(b'$how', ('$A', $port))
print(s.recvfrom(100)[0].decode())"
		echo "# $how: $output" >&3
		assert_success
		assert_output "from the exec image: $how"
		assert_exits_ok "exec-$how" 30
		grep -q "^exec image $how got $how from $B" "$(log_of "exec-$how")" ||
			fail_with_logs "the exec'd image did not report"
		grep -qx "child status 0" "$(log_of "exec-$how")" || fail_with_logs "child failed"
		port=$((port + 1))
	done
}
