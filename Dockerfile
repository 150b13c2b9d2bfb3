# One image for the agent and the fake OpenRouter: same code, different commands (see the compose files).
# Build: docker build -t holdline .    Run: docker compose up (docker-compose.yml)

# ---- dependencies, from the lockfile only (this layer is rebuilt only when the lockfile changes) ----
FROM node:20-bookworm-slim AS deps
WORKDIR /app
# .npmrc skips onnxruntime-node's CUDA download; keep it next to the lockfile so `npm ci` sees it.
COPY package.json package-lock.json .npmrc ./
# Production dependencies only (tsx, which runs every npm script's TypeScript, is one of them; so is esbuild, which
# compiles the test rig's JavaScript below).
# --ignore-scripts, because no install script is needed in a container:
#   - the root postinstall installs tools/llama (node-llama-cpp and its llama.cpp binaries) for the host-side
#     tests; containers use llama.cpp's official server image instead;
#   - onnxruntime-node's postinstall only downloads CUDA builds (its CPU build ships inside the package);
#   - esbuild's (under tsx) only verifies the binary that its @esbuild/linux-x64 package already holds.
# Behind a TLS-intercepting proxy (corporate networks, the offline CI machines) npm must trust the proxy's CA.
# It comes in as a BuildKit secret (id host_ca: the file NODE_EXTRA_CA_CERTS names, passed by the harness, or
# `docker build --secret id=host_ca,src=$NODE_EXTRA_CA_CERTS`), mounted for this step only: it is never in a
# layer, so the image can be published. Without the secret, npm uses the image's own CA store.
RUN --mount=type=secret,id=host_ca \
    if [ -s /run/secrets/host_ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/host_ca; fi; \
    npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# ---- runtime ----
FROM node:20-bookworm-slim
WORKDIR /app
# Listen on every interface: inside a container that is the only way other containers and published ports
# reach the server. With HTTP_PORT set, each job process serves /llm/status, /metrics and /healthz; not on
# 8081, which the LiveKit worker's own health server holds.
ENV NODE_ENV=production HTTP_HOST=0.0.0.0 HTTP_PORT=8082
# Commands run through npm, and a SIGTERM to npm alone stops npm and its `sh -c` but leaves node running (seen
# with npm 10). Run with an init (compose `init: true`, `docker run --init`): this makes it signal the whole
# process group, so `docker stop` reaches node itself and the worker drains instead of being killed.
ENV TINI_KILL_PROCESS_GROUP=1
# Code and node_modules stay owned by root, so the process (user node) cannot modify them.
COPY --from=deps /app/node_modules ./node_modules
COPY . .
# Every .ts compiled to a .js beside it (esbuild, as tsx compiles it; about a second): the test rig's fake and agent
# run `node` on the .js and start without compiling anything (docker-compose.test.yml). `npm start` stays on tsx.
RUN node docker/compile.mjs
USER node
EXPOSE 8081 8082
# `npm start` runs the LiveKit worker in production mode, whose health server (GET /, 0.0.0.0:8081) answers
# 200 while it is connected to LiveKit. docker-compose.test.yml overrides this for the fake and rehearsal.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 CMD ["node", "docker/healthcheck.mjs"]
CMD ["npm", "start"]
