# Bulkhead's image for users with Docker (`docker build -t ghcr.io/bulkhead-dev/bulkhead:$(node -p "require('./package.json').version") .`).
# `npm run image` (scripts/build-image.sh) builds the same layout without Docker, with umoci; the
# image reference is defined once, in src/version.ts (tag = package.json version).
#
# Multi-stage: production dependencies are installed in a build stage; the runtime stage has Node,
# the app and those dependencies only, runs as the nonroot user 65532, and needs no writable root
# filesystem (TSX_DISABLE_CACHE: no transpile cache on disk).

ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${NODE_IMAGE}
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="bulkhead" \
      org.opencontainers.image.description="Kubernetes gateway operator: isolated proxy pools per product line" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="https://github.com/bulkhead-dev/bulkhead" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production TSX_DISABLE_CACHE=1
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY bin ./bin
COPY src ./src
USER 65532:65532
ENTRYPOINT ["node", "/app/bin/bulkhead.mjs"]
