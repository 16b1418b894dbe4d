# syntax=docker/dockerfile:1
# coaching-service image: compile TypeScript in one stage, run the compiled
# JavaScript with production dependencies only in the next.

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:24-bookworm-slim AS runtime
ENV APP_ENV=production
WORKDIR /app
# The image's own Node 24 runs the service: the `node` and `embedded-postgres`
# devDependencies are left out, so production can never start an embedded database.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY migrations ./migrations
# Served by gRPC reflection; src/paths.ts finds it beside the package.json of /app.
COPY src/generated/descriptors.binpb ./src/generated/descriptors.binpb
USER node
# gRPC. Metrics (9464) and the admin listener (127.0.0.1:50052, loopback only) are configured by the environment.
EXPOSE 50051
# V8 heap flags: the same as package.json's start script (README "Design decisions", memory; test/nodeFlags.test.ts).
CMD ["node", "--max-semi-space-size=8", "--max-old-space-size=256", "dist/src/main.js"]
