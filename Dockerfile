# One image for every role; the compose services pick the entrypoint.
# Node.js 24 LTS, pinned to a release: .ci/run reads this line and runs the tests on the same
# version (package.json engines: >=24.11, the first 24 LTS release).
ARG NODE_IMAGE=node:24.22.3-bookworm-slim

# Build stage: compile the TypeScript to dist/ and bundle the dashboard into dist/dashboard/
# (npm run build), with the dev dependencies (TypeScript, esbuild, uPlot).
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY workers ./workers
COPY producer ./producer
COPY bin ./bin
COPY dashboard ./dashboard
RUN npm run build

# Runtime: production dependencies and the built files only; no TypeScript loader, compiler or
# bundler (the stats service serves the prebuilt dashboard), and no TypeScript loader in the
# processes or their inference threads (about 55 MB less RSS per worker than under tsx).
# Pruned after the install: onnxruntime-node's binaries for other systems and CPUs (it ships
# darwin, win32 and linux arm64/x64: ~200 MB), TypeScript (an optional peer that --omit=dev keeps
# because it is a dev dependency here) and protobufjs 6's pbjs CLI under onnx-proto; then npm's cache.
# test/integration/runtime-image.test.ts runs this stage's steps into a directory and checks it.
FROM ${NODE_IMAGE}
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --no-audit --no-fund \
  && arch="$(node -p process.arch)" \
  && find node_modules/onnxruntime-node/bin -mindepth 2 -maxdepth 2 ! -name linux -exec rm -rf {} + \
  && find node_modules/onnxruntime-node/bin -mindepth 3 -maxdepth 3 -path '*/linux/*' ! -name "$arch" -exec rm -rf {} + \
  && rm -rf node_modules/typescript node_modules/@typescript node_modules/.bin/tsc node_modules/.bin/tsserver \
    node_modules/onnx-proto/node_modules/protobufjs/cli \
  && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY models ./models
USER node
CMD ["node", "dist/workers/inference-worker.js"]
