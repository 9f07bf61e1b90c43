import { Ajv, type ValidateFunction } from "ajv";
import type { FastifySchemaCompiler } from "fastify";

// Only the formats our schemas use, so no extra package is needed (ajv-formats is not a direct dependency).
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})$/;

function createAjv(coerceTypes: boolean): Ajv {
  // removeAdditional: false and allErrors: true, unlike Fastify's defaults: an unknown field is an error the
  // client must hear about (not silently dropped), and every bad field is reported at once.
  const ajv = new Ajv({ coerceTypes, useDefaults: true, removeAdditional: false, allErrors: true, strict: false });
  ajv.addFormat("uuid", UUID);
  ajv.addFormat("date-time", { type: "string", validate: (value: string) => DATE_TIME.test(value) && !Number.isNaN(Date.parse(value)) });
  return ajv;
}

/**
 * Bodies are JSON and must have the right types ("2" is not a quantity); query strings and path parameters are
 * always text, so they are coerced ("?limit=10" is a number).
 */
export function createValidatorCompiler(): FastifySchemaCompiler<unknown> {
  const strict = createAjv(false);
  const coercing = createAjv(true);
  return ({ schema, httpPart }) => {
    const ajv = httpPart === "body" ? strict : coercing;
    return ajv.compile(schema as object) as ValidateFunction;
  };
}
