# syntax=docker/dockerfile:1
# fleetstat: one image for the agent, the collector and the CLI.
#   docker build -t fleetstat:0.1.0 .
#   docker run --rm -v /proc:/host/proc:ro fleetstat:0.1.0 agent --once --proc /host/proc

ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: compile TypeScript, then keep only the runtime dependencies ----
FROM ${NODE_IMAGE} AS build
# better-sqlite3 (collector history) is a native addon: prebuild-install downloads a binary
# when it can and compiles from source otherwise, which needs python3, make and g++.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# Dependencies first, so that a source change reuses this layer. --ignore-scripts because
# `prepare` (the build) needs sources that are not copied yet; `npm rebuild` runs the install
# scripts once only runtime dependencies are left (native addons such as better-sqlite3).
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY proto ./proto
COPY agent ./agent
COPY collector ./collector
COPY cli ./cli
RUN npm run build \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm rebuild --no-audit --no-fund

# ---- runtime ----
FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
# Owned by root and read-only to the process: the code cannot be changed by what runs it.
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/bin ./bin
COPY --from=build /app/dist ./dist
COPY --from=build /app/proto ./proto
# nobody:nogroup. Reading /proc/<pid>/net/* and /proc/<pid>/cgroup of every process on the
# host needs no root and no capability (helm/fleetstat/README.md).
USER 65534:65534
# collector HTTP, agent /healthz + /metrics, agent detail (gRPC), collector gRPC
EXPOSE 7470 7471 7472 7473
# Exec form, no shell and no init: node is PID 1 and receives SIGTERM itself. The kernel drops
# signals to a PID 1 that has no handler for them; fleetstat installs SIGTERM and SIGINT
# handlers (the agent then sends its goodbye snapshot, the collector drains), so they arrive.
# fleetstat starts no child processes (sampling runs on worker threads), so there are no
# zombies for an init to reap; if that ever changes, add tini (ENTRYPOINT ["tini", "--", ...])
# or run with `docker run --init`. A SIGTERM that lands before the handlers exist (the first
# moments of start-up) is dropped, and Kubernetes sends SIGKILL after the grace period.
ENTRYPOINT ["node", "/app/bin/fleetstat.js"]
CMD ["--help"]
