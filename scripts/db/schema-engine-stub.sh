#!/bin/sh
# Stand-in for Prisma's native schema engine, which cannot be downloaded here. PRISMA_SCHEMA_ENGINE_BINARY
# points at this file so `prisma generate` skips the download; generate itself never runs it.
echo "The native Prisma schema engine is not installed. Use npm run db:migrate / db:migration:create (WASM engine)." >&2
exit 1
