import { defineConfig } from "vite";

// Relative asset paths, so the built page works from any base path.
export default defineConfig({ base: "./", build: { outDir: "dist", emptyOutDir: true, target: "es2022" } });
