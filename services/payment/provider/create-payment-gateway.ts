import type { AppConfig } from "../../shared/config/config-schema.ts";
import type { SqlExecutor } from "../../shared/db/sql.ts";
import type { PaymentGateway } from "./payment-gateway.ts";
import { SimulatedPaymentProvider } from "./simulated-provider.ts";

/** The gateway from configuration. Only the simulated provider exists; a real one would be chosen here. */
export function createPaymentGateway(config: AppConfig, providerLedger: SqlExecutor): PaymentGateway {
  return new SimulatedPaymentProvider({
    ledger: providerLedger,
    rules: {
      declineAboveMinor: config.PAYMENT_DECLINE_ABOVE_MINOR,
      declineCustomerPrefix: config.PAYMENT_DECLINE_CUSTOMER_PREFIX,
      pendingCustomerPrefix: config.PAYMENT_PENDING_CUSTOMER_PREFIX,
    },
    latencyMs: config.PAYMENT_LATENCY_MS,
    transientErrorRate: config.PAYMENT_TRANSIENT_ERROR_RATE,
    timeoutMs: config.PAYMENT_TIMEOUT_MS,
  });
}
