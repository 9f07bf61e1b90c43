import type { FastifyInstance } from "fastify";
import type { PrismaClient } from "../../shared/db/index.ts";
import { listOrders } from "../read-orders/read-orders.ts";
import { listOrdersQuerySchema, orderPageSchema, problemResponses, type ListOrdersQuery } from "./order-schemas.ts";

export function registerListOrders(app: FastifyInstance, prisma: PrismaClient): void {
  app.get<{ Querystring: ListOrdersQuery }>(
    "/orders",
    {
      schema: {
        tags: ["orders"],
        summary: "Orders, newest first, filtered and cursor-paginated",
        querystring: listOrdersQuerySchema,
        response: { 200: { description: "One page of orders", ...orderPageSchema }, ...problemResponses(400, 503) },
      },
    },
    async (request) => listOrders(prisma, request.query),
  );
}
