import avro from "avsc";

/**
 * Why two Avro schemas are not mutually readable, in Avro's own words (the registry's verdict says only yes/no).
 * Checks both directions of FULL compatibility: the new schema reading old records, and the old reading new ones.
 */
export function explainIncompatibility(oldText: string, newText: string): string[] {
  const oldType = avro.Type.forSchema(JSON.parse(oldText) as avro.Schema);
  const newType = avro.Type.forSchema(JSON.parse(newText) as avro.Schema);
  const problems: string[] = [];
  const attempt = (direction: string, reader: avro.Type, writer: avro.Type): void => {
    try {
      reader.createResolver(writer);
    } catch (error) {
      problems.push(`${direction}: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  attempt("new schema cannot read existing records (BACKWARD)", newType, oldType);
  attempt("consumers on the registered schema cannot read new records (FORWARD)", oldType, newType);
  return problems;
}
