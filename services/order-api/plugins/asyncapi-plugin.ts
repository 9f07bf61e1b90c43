/**
 * GET /asyncapi.json: the AsyncAPI 3.0 description of the topics and events, generated from schemas/*.avsc and the
 * topic catalogue (services/shared/events/asyncapi.ts). Built once at start: the schemas do not change while running.
 */
import type { FastifyInstance } from "fastify";
import type { AppConfig } from "../../shared/config/config-schema.ts";
import { buildAsyncApiDocument } from "../../shared/events/asyncapi.ts";

export async function asyncApiPlugin(scope: FastifyInstance, options: { config: Pick<AppConfig, "TOPIC_PREFIX" | "KAFKA_BROKERS"> }): Promise<void> {
  const body = JSON.stringify(buildAsyncApiDocument({ config: options.config }));
  scope.get("/asyncapi.json", { schema: { hide: true } }, async (_request, reply) => reply.type("application/json").send(body));
}
