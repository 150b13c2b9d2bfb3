#!/bin/bash
# Runs a command once HOST:PORT accepts a TCP connection: the test rig's agent starts only once the fake OpenRouter
# listens, since at its start it asks the fake for /models (and, in a fleet on free models, /key), and a refused
# request there would change what the rehearsal records. A Docker healthcheck with depends_on did this before, at
# the cost of the healthcheck's 2 s interval (dockerd 20.10 has no start_interval); this polls every 50 ms with
# bash's own /dev/tcp (no curl in the node image), and the command replaces this shell (exec), so `docker stop`
# reaches it directly. The fake listens only once it is on the runner's clock, so neither can run ahead.
# A fleet sharing Redis waits for it too (HOST PORT pairs, in order): an agent whose first connection to Redis was
# refused would reconnect on the clock (src/chain/redis-reconnect.ts), a timer only some runs have.
# usage: bash docker/when-listening.sh HOST PORT [HOST PORT ...] -- COMMAND [ARGS...]
targets=()
while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do
  targets+=("$1")
  shift
done
if [ "$#" -lt 2 ] || [ "${#targets[@]}" -eq 0 ] || [ $((${#targets[@]} % 2)) -ne 0 ]; then
  echo "usage: when-listening.sh HOST PORT [HOST PORT ...] -- COMMAND [ARGS...]" >&2
  exit 2
fi
shift
# The connection is opened in a subshell and closed with it; a name that does not resolve yet (the fake's
# container not started) fails like a refused connection and is retried.
for ((i = 0; i < ${#targets[@]}; i += 2)); do
  until (exec 3<>"/dev/tcp/${targets[i]}/${targets[i + 1]}") 2>/dev/null; do sleep 0.05; done
done
exec "$@"
