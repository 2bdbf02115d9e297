# Shell functions for servers/*.sh; sourced by run.sh.

# free_port prints a TCP port that nothing listens on at 127.0.0.1.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# wait_http URL [SECONDS] waits until URL answers any HTTP status.
wait_http() {
	local url=$1 deadline=$((SECONDS + ${2:-60}))
	until curl -s -o /dev/null "$url"; do
		if ((SECONDS > deadline)); then
			echo "timed out waiting for $url" >&2
			return 1
		fi
		sleep 0.2
	done
}

# start_bg NAME COMMAND... starts a server in the background, logging to
# $LOG_DIR/NAME.log; run.sh stops it on exit.
start_bg() {
	local name=$1
	shift
	"$@" >"$LOG_DIR/$name.log" 2>&1 &
	SERVER_PIDS+=($!)
}
