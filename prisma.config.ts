import { defineConfig } from "prisma/config";

// Prisma 7 reads the connection URL here, not from schema.prisma. `prisma generate` does not connect, so a
// default keeps it working without DATABASE_URL; the project's own scripts (scripts/db/) pass URLs explicitly.
export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: { url: process.env.DATABASE_URL ?? "postgresql://orderflow:orderflow@127.0.0.1:5432/orderflow" },
});
