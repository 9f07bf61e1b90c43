// The payment service (group payment): telemetry first (instrumentation must hook pg and kafkajs before they load),
// then the shared consumer runner with the simulated provider and the callback reconciliation job beside it.
import { startTelemetry } from "../shared/telemetry/start-telemetry.ts";

const telemetry = startTelemetry({ serviceName: "payment" });

const { runConsumerService } = await import("../shared/consumer/run-consumer-service.ts");
const { paymentConsumer } = await import("./payment-consumer.ts");
const { createPaymentGateway } = await import("./provider/create-payment-gateway.ts");
const { callbackReconcilerExtension, callbackRetentionExtension } = await import("./callbacks/callback-reconciler.ts");
const { loadConfig } = await import("../shared/config/load-config.ts");
const { createPool } = await import("../shared/db/pool.ts");
const { executorOf } = await import("../shared/db/sql.ts");

const config = loadConfig();
// The provider's ledger gets its own small pool: a remote provider does not share our connections.
const providerPool = createPool(config.DATABASE_URL, {
  poolSize: 3,
  applicationName: "payment-provider-sim",
  connectTimeoutMs: config.DATABASE_CONNECT_TIMEOUT_MS,
});

await runConsumerService({
  serviceName: "payment",
  telemetry,
  definition: paymentConsumer(createPaymentGateway(config, executorOf(providerPool))),
  extensions: [callbackReconcilerExtension(), callbackRetentionExtension()],
});
