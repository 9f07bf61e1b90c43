/**
 * Timestamps from the query string and cursors, checked before they reach PostgreSQL: JavaScript accepts year
 * 0000 and extended years (+010000, -000001) that PostgreSQL's timestamptz refuses or that no order can have, so
 * such input is a 400 naming the parameter instead of a 500 from the database.
 */
import { BadRequestError } from "../../shared/errors/http-errors.ts";

// RFC 3339 date-time with a four-digit year (0001-9999); the rest of the grammar is Ajv's "date-time" format.
const FOUR_DIGIT_YEAR = /^(?!0000)\d{4}-\d{2}-\d{2}T/;

/** A valid instant with a year in 0001..9999, or undefined. */
export function parseTimestamp(text: string): Date | undefined {
  if (!FOUR_DIGIT_YEAR.test(text)) return undefined;
  const at = new Date(text);
  return Number.isNaN(at.getTime()) ? undefined : at;
}

/** parseTimestamp for a query parameter: a 400 problem naming it when it is out of range. */
export function timestampParameter(name: string, text: string): Date {
  const at = parseTimestamp(text);
  if (at === undefined) {
    throw new BadRequestError({
      detail: `${name} must be an RFC 3339 date-time in the years 0001 to 9999`,
      errors: [{ parameter: name, detail: "out of range" }],
    });
  }
  return at;
}
