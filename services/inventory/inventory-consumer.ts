import type { ConsumerDefinition } from "../shared/consumer/consumer-handler.ts";
import { commitStock, releaseStock } from "./release-stock.ts";
import { reserveStock } from "./reserve-stock.ts";
import { beginStockRun, finishStockRun } from "./stock-ledger.ts";

/** Group inventory: reserves on OrderPlaced, releases on OrderCancelled (compensation), commits on OrderConfirmed. */
export const inventoryConsumer: ConsumerDefinition = {
  group: "inventory",
  topics: ["orders"],
  handlers: {
    OrderPlaced: reserveStock,
    OrderCancelled: releaseStock,
    OrderConfirmed: commitStock,
  },
  // Locks and reads the run's stock rows up front, writes their net change in one statement at the end.
  beginRun: beginStockRun,
  finishRun: finishStockRun,
};
