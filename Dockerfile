# syntax=docker/dockerfile:1

ARG NODE_IMAGE=node:20-bookworm-slim

# --- all dependencies (dev included), for building ------------------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
# npm workspaces: each workspace's package.json must be there for `npm ci` to link it.
COPY package.json package-lock.json ./
COPY packages/integration-sdk/package.json packages/integration-sdk/
COPY plugins/outlook-calendar/package.json plugins/outlook-calendar/
RUN npm ci --no-audit --no-fund

# --- compile TypeScript to dist/ ------------------------------------------------------------------
FROM deps AS build
COPY . .
RUN npm run build

# --- production dependencies only -----------------------------------------------------------------
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
COPY packages/integration-sdk/package.json packages/integration-sdk/
COPY plugins/outlook-calendar/package.json plugins/outlook-calendar/
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# --- runtime --------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PORT=3000 \
    WORKER_HEALTH_PORT=3001
WORKDIR /app
# package.json is needed at runtime: it carries "type": "module" for the ESM output in dist/.
COPY --chown=node:node package.json ./
COPY --from=prod-deps --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
# The integration SDK, built: node_modules/@pdeck/integration-sdk links here.
COPY --from=build --chown=node:node /app/packages/integration-sdk/package.json ./packages/integration-sdk/
COPY --from=build --chown=node:node /app/packages/integration-sdk/dist ./packages/integration-sdk/dist
# The plugins of this repository, built; each runs only when INTEGRATION_PLUGINS lists it.
COPY --from=build --chown=node:node /app/plugins/outlook-calendar/package.json ./plugins/outlook-calendar/
COPY --from=build --chown=node:node /app/plugins/outlook-calendar/dist ./plugins/outlook-calendar/dist
# DATA_DIR defaults to .data (relative to /app); make it writable by the unprivileged user.
RUN mkdir -p /app/.data && chown node:node /app/.data
USER node
# 3000: the API (ROLE=api or all); 3001: a worker's health and metrics server (ROLE=worker).
EXPOSE 3000 3001
# No curl in the slim image: use Node's global fetch. The probe follows the role: the API's
# /health/live on $PORT, or a worker's on $WORKER_HEALTH_PORT (ROLE=worker has no API server).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD node -e "const e=process.env,p=e.ROLE==='worker'?(e.WORKER_HEALTH_PORT||3001):(e.PORT||3000);fetch('http://127.0.0.1:'+p+'/health/live',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# The heap limit of `npm start` (README, "Memory"): workers stay flat however big a sync is.
CMD ["node", "--max-old-space-size=384", "dist/main.js"]
