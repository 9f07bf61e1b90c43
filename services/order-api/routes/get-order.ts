import type { FastifyInstance } from "fastify";
import type { SqlExecutor } from "../../shared/db/sql.ts";
import type { BearerCheck } from "../http/bearer-auth.ts";
import { getOrder } from "../read-orders/read-orders.ts";
import { orderDetailSchema, orderIdParamsSchema } from "./order-schemas.ts";
import { problemResponses } from "../../shared/errors/problem-schema.ts";

export function registerGetOrder(app: FastifyInstance, db: SqlExecutor, auth: BearerCheck): void {
  app.get<{ Params: { id: string } }>(
    "/orders/:id",
    {
      onRequest: auth,
      schema: {
        tags: ["orders"],
        summary: "One order with its items, totals and status history (Authorization: Bearer <ORDERS_READ_TOKEN> when set)",
        params: orderIdParamsSchema,
        response: { 200: { description: "The order", ...orderDetailSchema }, ...problemResponses(400, 401, 404, 429, 503) },
      },
    },
    async (request) => getOrder(db, request.params.id.toLowerCase()),
  );
}
