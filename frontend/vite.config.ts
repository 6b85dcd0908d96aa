import { defineConfig } from "vite";

// Root is frontend/ (npm scripts pass it). The API process serves frontend/dist at /, and the page
// calls /api/... on the same origin.
// In `npm run dev`, CITYLEDGER_API (default http://127.0.0.1:8000) receives those calls.
export default defineConfig({
  base: "./",
  build: { outDir: "dist", emptyOutDir: true, target: "es2022", sourcemap: false },
  server: {
    proxy: { "/api": process.env.CITYLEDGER_API ?? "http://127.0.0.1:8000" },
  },
});
