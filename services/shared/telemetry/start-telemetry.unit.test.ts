import { trace } from "@opentelemetry/api";
import { describe, expect, it } from "vitest";
import { startTelemetry } from "./start-telemetry.ts";

describe("startTelemetry", () => {
  it("does nothing when OTEL_SDK_DISABLED=true", async () => {
    const telemetry = startTelemetry({ serviceName: "disabled-check", env: { OTEL_SDK_DISABLED: "TRUE " } });
    const span = trace.getTracer("unit").startSpan("noop");
    expect(span.isRecording()).toBe(false);
    span.end();
    await expect(telemetry.shutdown()).resolves.toBeUndefined();
  });
});
