import type { ConsumerDefinition } from "../shared/consumer/consumer-handler.ts";
import { commitStock, releaseStock } from "./release-stock.ts";
import { reserveStock } from "./reserve-stock.ts";
import { lockStockOfRun } from "./stock-locks.ts";

/** Group inventory: reserves on OrderPlaced, releases on OrderCancelled (compensation), commits on OrderConfirmed. */
export const inventoryConsumer: ConsumerDefinition = {
  group: "inventory",
  topics: ["orders"],
  handlers: {
    OrderPlaced: reserveStock,
    OrderCancelled: releaseStock,
    OrderConfirmed: commitStock,
  },
  lockRun: lockStockOfRun,
};
