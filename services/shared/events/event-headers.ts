/** Kafka header names every event carries (besides W3C traceparent / tracestate). Consumers read the same names. */
export const EVENT_TYPE_HEADER = "event-type";
export const EVENT_ID_HEADER = "event-id";
export const TRACEPARENT_HEADER = "traceparent";
export const TRACESTATE_HEADER = "tracestate";
