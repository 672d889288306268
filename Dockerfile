# The sample chat app (apps/sample), built the way the repo builds it:
# npm ci, npm run build (tsc -b), node dist/apps/sample/main.js.
# Used by docker-compose.yml; build alone with: docker build -t tracing-ws-sample .

# Node pinned to the version scripts/ensure-node.sh installs (>= 24.9 is required).
FROM node:24.21.0-bookworm-slim AS build
WORKDIR /app
# Manifests first, so the dependency layer is cached across source edits.
COPY package.json package-lock.json ./
COPY libs/tracing-ws/package.json libs/tracing-ws/
COPY libs/tracing-ws-client/package.json libs/tracing-ws-client/
RUN npm ci --no-audit --no-fund
COPY tsconfig.base.json tsconfig.json nest-cli.json ./
COPY scripts scripts
COPY libs libs
COPY apps apps
RUN npm run build \
  && npm prune --omit=dev --no-audit --no-fund \
  && mkdir -p apps/sample/public

FROM node:24.21.0-bookworm-slim
ENV NODE_ENV=production \
    PORT=3000 \
    HOST=0.0.0.0
WORKDIR /app
COPY --from=build /app/package.json ./
# node_modules/@tracing-ws/* are workspace symlinks into libs/: keep both.
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/libs/tracing-ws/package.json libs/tracing-ws/
COPY --from=build /app/libs/tracing-ws/dist libs/tracing-ws/dist
COPY --from=build /app/libs/tracing-ws-client/package.json libs/tracing-ws-client/
COPY --from=build /app/libs/tracing-ws-client/dist libs/tracing-ws-client/dist
COPY --from=build /app/apps/sample/public apps/sample/public
COPY --from=build /app/dist/apps/sample dist/apps/sample
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "--enable-source-maps", "dist/apps/sample/main.js"]
