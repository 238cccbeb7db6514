# One image for every role; the compose services pick the entrypoint.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY workers ./workers
COPY producer ./producer
COPY bin ./bin
COPY dashboard ./dashboard
COPY models ./models
USER node
CMD ["node", "--import", "tsx", "workers/inference-worker.ts"]
