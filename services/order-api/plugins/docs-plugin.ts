/**
 * The OpenAPI document and its UI at /docs, generated from the routes' schemas. On the root instance
 * (fastify-plugin): @fastify/swagger collects routes with an onRoute hook, which sees only its own scope's routes,
 * and the shared Problem schema must be resolvable from every route.
 */
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import { problemSchema } from "../../shared/errors/problem-schema.ts";

async function docs(app: FastifyInstance): Promise<void> {
  app.addSchema(problemSchema);
  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: { title: "Orderflow order API", version: "1.0.0", description: "Accepts orders; errors are RFC 9457 application/problem+json." },
      tags: [{ name: "orders" }, { name: "health" }],
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, index) => (typeof json.$id === "string" ? json.$id : `def-${index}`) },
  });
  await app.register(swaggerUi, { routePrefix: "/docs" });
}

export const docsPlugin = fp(docs, { name: "order-api-docs" });
