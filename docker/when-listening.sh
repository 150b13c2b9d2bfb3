#!/bin/bash
# Runs a command once HOST:PORT accepts a TCP connection: the test rig's agent starts only once the fake OpenRouter
# listens, since at its start it asks the fake for /models (and, in a fleet on free models, /key), and a refused
# request there would change what the rehearsal records. A Docker healthcheck with depends_on did this before, at
# the cost of the healthcheck's 2 s interval (dockerd 20.10 has no start_interval); this polls every 50 ms with
# bash's own /dev/tcp (no curl in the node image), and the command replaces this shell (exec), so `docker stop`
# reaches it directly. The fake listens only once it is on the runner's clock, so neither can run ahead.
# usage: bash docker/when-listening.sh HOST PORT -- COMMAND [ARGS...]
host=$1 port=$2
if [ "$#" -lt 4 ] || [ "$3" != "--" ]; then
  echo "usage: when-listening.sh HOST PORT -- COMMAND [ARGS...]" >&2
  exit 2
fi
shift 3
# The connection is opened in a subshell and closed with it; a name that does not resolve yet (the fake's
# container not started) fails like a refused connection and is retried.
until (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; do sleep 0.05; done
exec "$@"
