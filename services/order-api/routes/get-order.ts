import type { FastifyInstance } from "fastify";
import type { PrismaClient } from "../../shared/db/index.ts";
import { getOrder } from "../read-orders/read-orders.ts";
import { orderDetailSchema, orderIdParamsSchema, problemResponses } from "./order-schemas.ts";

export function registerGetOrder(app: FastifyInstance, prisma: PrismaClient): void {
  app.get<{ Params: { id: string } }>(
    "/orders/:id",
    {
      schema: {
        tags: ["orders"],
        summary: "One order with its items, totals and status history",
        params: orderIdParamsSchema,
        response: { 200: { description: "The order", ...orderDetailSchema }, ...problemResponses(400, 404, 503) },
      },
    },
    async (request) => getOrder(prisma, request.params.id.toLowerCase()),
  );
}
