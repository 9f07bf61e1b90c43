/**
 * What the payment service offers other services: the one file another service may import from services/payment
 * (the import-boundary lint rule holds every service to its public.ts). Everything else in this folder is payment's own.
 */
export { paymentWebhookPlugin, type PaymentWebhookOptions } from "./webhook/webhook-plugin.ts";
