# syntax=docker/dockerfile:1
# The tidewatch predictor sidecar: `tidewatch-predictor serve`. Build from the repo root:
#   docker build -t ghcr.io/tidewatch/predictor:0.1.0 .
#   buildah bud --layers -t ghcr.io/tidewatch/predictor:0.1.0 .
# How to build, test and push it, and how deploy/ picks the tag: docs/container-image.md.
#
# The base is the official Node 20 image on Debian 12. Where no registry can be reached,
# scripts/image/base.mjs assembles an equivalent image (debootstrap + this machine's Node 20)
# under the same name, so this file is the one used everywhere.
ARG NODE_IMAGE=docker.io/library/node:20-bookworm-slim

# ---- build: every workspace's dependencies (the build tools are devDependencies), then the
# predictor and the @tidewatch packages it depends on, then their runtime closure alone.
FROM ${NODE_IMAGE} AS build
# Behind a TLS-intercepting proxy: pass its CA bundle for this stage only, e.g.
#   --build-arg NODE_EXTRA_CA_CERTS=/tmp/build-ca.pem -v /etc/ssl/certs/ca-certificates.crt:/tmp/build-ca.pem:ro
# (empty: Node's own CAs). Build args stay out of the runtime stage.
ARG NODE_EXTRA_CA_CERTS=
ENV TURBO_TELEMETRY_DISABLED=1 \
    npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false
WORKDIR /src
COPY . .
# --ignore-scripts: no dependency of the build or of the sidecar needs an install script
# (esbuild and turbo ship their binaries as optional platform packages).
RUN --mount=type=cache,target=/root/.npm npm ci --ignore-scripts
RUN npx turbo run build --output-logs=errors-only --filter=@tidewatch/predictor...
RUN node scripts/image/prod-tree.mjs /app
WORKDIR /app
# webgpu (84 MB of prebuilt binaries for four platforms) is a dependency of gpu.js that no
# code path in Node loads (gpu.js never requires it; the LSTM runs on its CPU kernels), and
# npm offers a package no way to drop a dependency of a dependency: delete it here.
RUN --mount=type=cache,target=/root/.npm npm install --omit=dev --ignore-scripts \
 && rm -f package-lock.json .npmrc \
 && rm -rf node_modules/webgpu

# ---- runtime: Node, the built packages and their production dependencies; nothing else.
FROM ${NODE_IMAGE}
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="tidewatch-predictor" \
      org.opencontainers.image.description="tidewatch predictor sidecar: forecasts load, publishes scaling signals for KEDA/HPA" \
      org.opencontainers.image.source="https://github.com/tidewatch/tidewatch" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.version="${VERSION}"
# Files stay root-owned and read-only to the process: the root filesystem can be mounted
# read-only. The sidecar keeps history in memory unless --data-dir / TIDEWATCH_DATA_DIR
# names a writable volume (deploy/ mounts an emptyDir at /var/lib/tidewatch, and one at /tmp).
COPY --from=build /app /app
# tidewatch-predictor on PATH: deploy/ runs `command: [tidewatch-predictor]`.
# TIDEWATCH_HOST: inside a container the port must be reachable from outside it; a flag
# (--host) or the variable overrides it (the variable also beats the config file's listen.host).
ENV PATH=/app/node_modules/.bin:$PATH \
    NODE_ENV=production \
    TIDEWATCH_HOST=0.0.0.0
WORKDIR /app
# A numeric user, so runAsNonRoot can verify it without /etc/passwd (distroless "nonroot").
USER 65532:65532
EXPOSE 9464
ENTRYPOINT ["tidewatch-predictor"]
CMD ["serve"]
