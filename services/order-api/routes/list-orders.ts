import type { FastifyInstance } from "fastify";
import type { PrismaClient } from "../../shared/db/index.ts";
import type { BearerCheck } from "../http/bearer-auth.ts";
import { listOrders } from "../read-orders/read-orders.ts";
import { listOrdersQuerySchema, orderPageSchema, type ListOrdersQuery } from "./order-schemas.ts";
import { problemResponses } from "../../shared/errors/problem-schema.ts";

export function registerListOrders(app: FastifyInstance, prisma: PrismaClient, auth: BearerCheck): void {
  app.get<{ Querystring: ListOrdersQuery }>(
    "/orders",
    {
      onRequest: auth,
      schema: {
        tags: ["orders"],
        summary: "Orders, newest first, filtered and cursor-paginated (Authorization: Bearer <ORDERS_READ_TOKEN> when set)",
        querystring: listOrdersQuerySchema,
        response: { 200: { description: "One page of orders", ...orderPageSchema }, ...problemResponses(400, 401, 429, 503) },
      },
    },
    async (request) => listOrders(prisma, request.query),
  );
}
