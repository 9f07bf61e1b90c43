/**
 * POST /payments/webhook, a Fastify plugin that payment exports (services/payment/public.ts) and the order API
 * registers, so the HTTP entry of payment's callbacks lives beside the code that stores and applies them.
 * The provider's asynchronous callbacks: The signature is checked over the raw
 * bytes (so this route parses JSON itself, in its own plugin scope), then the callback is stored once per provider
 * event id and applied to its payment, or kept for the payment service's reconciler when the payment is not known
 * yet. Forged, stale or tampered deliveries get a 401 problem.
 */
import type { FastifyInstance } from "fastify";
import type { PrismaClient } from "../../shared/db/index.ts";
import { defineError } from "../../shared/errors/coded-error.ts";
import { MalformedJsonError, ValidationError } from "../../shared/errors/http-errors.ts";
import { problemResponses } from "../../shared/errors/problem-schema.ts";
import { parseProviderCallback } from "../callbacks/provider-callback.ts";
import { receiveCallback } from "../callbacks/receive-callback.ts";
import { verifyWebhookSignature, WEBHOOK_SIGNATURE_HEADER, WEBHOOK_TIMESTAMP_HEADER } from "../callbacks/webhook-signature.ts";

const WebhookUnauthorizedError = defineError({ code: "WEBHOOK_UNAUTHORIZED", status: 401, title: "The webhook is not authentic" });

export interface PaymentWebhookOptions {
  prisma: PrismaClient;
  secret: string;
  toleranceSeconds: number;
  transactionTimeoutMs: number;
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(",") : value;
}

function parseJson(rawBody: string): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(rawBody) as unknown;
  } catch {
    throw new MalformedJsonError({ detail: "The body is not valid JSON" });
  }
  if (!storableAsJsonb(parsed)) throw new MalformedJsonError({ detail: "The body has a string PostgreSQL cannot store (a lone UTF-16 surrogate or U+0000)" });
  return parsed;
}

const UNSTORABLE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]|\u0000/;

/** JSON that jsonb refuses (a lone surrogate such as "\ud800", or "\u0000") would otherwise end in a 500. */
function storableAsJsonb(value: unknown): boolean {
  if (typeof value === "string") return !UNSTORABLE.test(value);
  if (Array.isArray(value)) return value.every(storableAsJsonb);
  if (typeof value === "object" && value !== null) return Object.entries(value).every(([key, inner]) => storableAsJsonb(key) && storableAsJsonb(inner));
  return true;
}

const receivedSchema = {
  type: "object",
  required: ["status"],
  properties: {
    status: { type: "string", enum: ["applied", "stored", "duplicate"] },
    callbackId: { type: "string" },
  },
} as const;

/**
 * Register with `app.register(paymentWebhookPlugin, options)`: Fastify gives the plugin its own scope, so its raw
 * JSON parser applies to this route only.
 */
export async function paymentWebhookPlugin(scope: FastifyInstance, options: PaymentWebhookOptions): Promise<void> {
  // The raw text is what was signed: keep it instead of Fastify's parsed object.
  scope.removeContentTypeParser("application/json");
  scope.addContentTypeParser("application/json", { parseAs: "string" }, (_request, body, done) => done(null, body));

  scope.post<{ Body: string }>(
    "/payments/webhook",
    {
      schema: {
        tags: ["payments"],
        summary: "Payment provider callback (HMAC-SHA256 signed)",
        description:
          "Signed with HMAC-SHA256 over `<Webhook-Timestamp>.<raw body>` (header `Webhook-Signature: v1=<hex>`); deliveries older or newer than " +
          "the tolerance, with a wrong signature, or reusing an event id with another body answer 401. Redeliveries are idempotent.",
        response: {
          200: { description: "Applied to its payment, or a redelivery of one already received", ...receivedSchema },
          202: { description: "Stored; applied once its payment is known", ...receivedSchema },
          ...problemResponses(400, 401, 413, 415, 422, 503),
        },
      },
    },
    async (request, reply) => {
      const rawBody = request.body;
      const check = verifyWebhookSignature({
        secret: options.secret,
        toleranceSeconds: options.toleranceSeconds,
        rawBody,
        timestampHeader: headerText(request.headers[WEBHOOK_TIMESTAMP_HEADER]),
        signatureHeader: headerText(request.headers[WEBHOOK_SIGNATURE_HEADER]),
      });
      if (!check.ok) throw new WebhookUnauthorizedError({ detail: `Rejected: ${check.reason}` });
      const parsed = parseProviderCallback(parseJson(rawBody));
      if (!parsed.ok) throw new ValidationError({ detail: "The callback does not match the provider's format", errors: parsed.problems });
      const outcome = await receiveCallback(options.prisma, parsed.callback, { timeoutMs: options.transactionTimeoutMs });
      if (outcome.kind === "conflict") {
        throw new WebhookUnauthorizedError({ detail: "Rejected: this event id was received before with another body" });
      }
      request.log.info({ provider_event_id: parsed.callback.id, outcome: outcome.kind }, "payment callback received");
      return reply.code(outcome.kind === "stored" ? 202 : 200).send({ status: outcome.kind, callbackId: outcome.callbackId });
    },
  );
}
