# syntax=docker/dockerfile:1
# One image per service, all from this file:
#   docker build --build-arg SERVICE=scheduler -t pipewright/scheduler .
# SERVICE is the directory name under services/. The build stages do not depend on it, so
# building the seven images compiles the workspace once.
ARG NODE_IMAGE=node:24-bookworm-slim
# For builds without network: the path at which the builder mounts an npm cache that holds
# every package of package-lock.json (scripts/images.mjs mounts the host's with
# `podman build --volume`); npm ci then installs from it alone. Unset, npm ci downloads.
ARG NPM_OFFLINE_CACHE=

# Only the package manifests, so the dependency layers below are reused until one changes.
FROM ${NODE_IMAGE} AS manifests
WORKDIR /src
COPY . .
RUN mkdir /manifests \
 && cp package.json package-lock.json /manifests/ \
 && find packages services -mindepth 2 -maxdepth 2 -name package.json -exec cp --parents {} /manifests/ \;

# Everything, with dev dependencies: generates the gRPC code and compiles the workspace.
FROM ${NODE_IMAGE} AS build
ARG NPM_OFFLINE_CACHE
WORKDIR /app
COPY --from=manifests /manifests/ ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --ignore-scripts --no-audit --no-fund ${NPM_OFFLINE_CACHE:+--offline --cache "$NPM_OFFLINE_CACHE"}
COPY . .
RUN npm run build

# Production dependencies only; no install scripts are needed at run time.
FROM ${NODE_IMAGE} AS runtime-deps
ARG NPM_OFFLINE_CACHE
WORKDIR /app
COPY --from=manifests /manifests/ ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --ignore-scripts --no-audit --no-fund ${NPM_OFFLINE_CACHE:+--offline --cache "$NPM_OFFLINE_CACHE"}

# What one service needs at run time: the compiled packages, the service (with its migrations
# and data files, without sources), proto/ for server reflection, and /app/main.js.
FROM build AS service-files
ARG SERVICE
RUN node scripts/lib/k8s-image-files.mjs "${SERVICE}" /out

# The layers up to the production dependencies are the same in the seven images (SERVICE comes
# after them), so a registry, a node or an image archive holds them once.
FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    PROTO_PATH=/app/proto
WORKDIR /app
COPY --from=runtime-deps /app/ ./
ARG SERVICE
LABEL org.opencontainers.image.title="pipewright-${SERVICE}" \
      org.opencontainers.image.description="pipewright ${SERVICE} service" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=service-files /out/ ./
# The image's "node" user; numeric so that Kubernetes can verify runAsNonRoot.
USER 1000:1000
EXPOSE 9464
CMD ["node", "--require", "@pipewright/platform/register", "main.js"]
