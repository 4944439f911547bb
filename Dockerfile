# popgate container image.
#
#   docker build -t popgate:0.1.0 .
#   docker run --read-only --tmpfs /tmp -p 8080:8080 -p 9090:9090 \
#     -v "$PWD/deploy:/etc/popgate:ro" popgate:0.1.0
#
# Two stages: `build` installs every dependency and compiles TypeScript
# (`npm ci`, `npm run build`, as .ci/run does); `runtime` installs only the
# production dependencies from the same lock file and takes the compiled
# dist/src. Tests, bench, sources and dev tools stay out of the image.
#
# The runtime runs as a numeric non-root user (65532, no name needed, so
# Kubernetes' runAsNonRoot can check it) and writes nothing outside /tmp:
# it works with a read-only root filesystem. In Kubernetes mount an emptyDir
# at /tmp (the Helm chart in helm/popgate does).
#
# Configuration lives in /etc/popgate/: gateway.yaml, and next to it the ACL
# and secrets files it names (relative paths resolve against the config
# file's directory). Mount them read-only; nothing is baked in.
#
# No HEALTHCHECK on purpose: Kubernetes ignores it and probes the admin
# listener instead (/healthz liveness, /readyz readiness, port 9090 with the
# chart's config). Outside Kubernetes, probe those two paths the same way.
#
# The default base is the Node major the test suite runs (20), on Debian like
# the machines the suite runs on. Pin it by digest in production
# (node:20-bookworm-slim@sha256:...).
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
# tsc compiles what tsconfig includes; only src/ is copied, so only src/ is built.
RUN npm run build && chmod 0555 dist/src/cli/main.js

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only; then npm and yarn go: nothing at run time
# needs a package manager, and each is one more thing for a scanner to flag.
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force \
 && rm -rf /root/.npm /usr/local/lib/node_modules/npm /usr/local/bin/npm /usr/local/bin/npx \
           /opt/yarn-* /usr/local/bin/yarn /usr/local/bin/yarnpkg \
 && mkdir -p /etc/popgate
COPY --from=build /src/dist/src ./dist/src
# `popgate` on PATH: the package's bin entry (package.json "bin"), no npm link.
RUN ln -s /app/dist/src/cli/main.js /usr/local/bin/popgate

USER 65532:65532
# 8080: the public listener (`listen`); 9090: the admin listener
# (`admin.listen`: /metrics, /healthz, /readyz), as in config/gateway.yaml.
EXPOSE 8080 9090
ENTRYPOINT ["popgate"]
CMD ["serve", "--config", "/etc/popgate/gateway.yaml"]
