import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// `npm run dev -w @ensemble/console` proxies the API to an Ensemble on :8080 (ENSEMBLE_URL to change it).
const api = process.env.ENSEMBLE_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 400 },
  server: {
    proxy: Object.fromEntries(['/api', '/v1', '/metrics', '/readyz', '/healthz'].map((path) => [path, api])),
  },
});
