import { copyFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig, type Plugin } from "vite";

const HERE = dirname(fileURLToPath(import.meta.url));

// The API reference at /docs is Swagger UI from this server, never from a CDN: the build copies
// npm's swagger-ui-dist into dist/swagger-ui/, which the API serves at /docs/assets/.
function swaggerUi(): Plugin {
  return {
    name: "cityledger-swagger-ui",
    apply: "build",
    closeBundle() {
      const from = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
      const to = join(HERE, "dist", "swagger-ui");
      mkdirSync(to, { recursive: true });
      for (const file of ["swagger-ui-bundle.js", "swagger-ui.css", "LICENSE", "NOTICE"]) copyFileSync(join(from, file), join(to, file));
    },
  };
}

// Root is frontend/ (npm scripts pass it). The API process serves frontend/dist at /, and the page
// calls /api/... on the same origin.
// In `npm run dev`, CITYLEDGER_API (default http://127.0.0.1:8000) receives those calls.
export default defineConfig({
  base: "./",
  build: { outDir: "dist", emptyOutDir: true, target: "es2022", sourcemap: false },
  plugins: [swaggerUi()],
  server: {
    proxy: { "/api": process.env.CITYLEDGER_API ?? "http://127.0.0.1:8000" },
  },
});
