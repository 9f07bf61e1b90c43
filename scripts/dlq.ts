// `npm run dlq -- list [--group g]`: every dead letter with its error headers.
// `npm run dlq -- replay --group g (--offset o [--partition p] | --all)`: sends the original record(s) back to
// their original topic (original key, value and headers), where the group processes them again.
// The reading and replaying is services/shared/consumer/dead-letter-topics.ts, which the live console uses too.
import { parseArgs } from "node:util";
import { loadConfig, topicName } from "../services/shared/config/load-config.ts";
import { describeLetter, listDeadLetterTopics, readDeadLetters, replayDeadLetters, selectLetters } from "../services/shared/consumer/dead-letter-topics.ts";
import { CodedError } from "../services/shared/errors/coded-error.ts";
import { createKafka, parseBrokers } from "../services/shared/kafka/kafka-client.ts";

const USAGE = "usage: npm run dlq -- list [--group <group>] | replay --group <group> (--offset <o> [--partition <p>] | --all)";

/** Bad CLI input; the message is the usage. */
class DlqUsageError extends Error {
  constructor() {
    super(USAGE);
    this.name = "DlqUsageError";
  }
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { group: { type: "string" }, offset: { type: "string" }, partition: { type: "string" }, all: { type: "boolean", default: false } },
  });
  const command = positionals[0];
  const config = loadConfig();
  const kafka = createKafka({ brokers: parseBrokers(config.KAFKA_BROKERS), clientId: `${config.KAFKA_CLIENT_ID}-dlq`, logLevel: "nothing" });
  if (command === "list") {
    const topics = values.group ? [topicName(config, `dlq.${values.group}`)] : await listDeadLetterTopics(kafka, config.TOPIC_PREFIX);
    for (const topic of topics) {
      const { letters } = await readDeadLetters(kafka, topic);
      console.log(`${topic}: ${letters.length} dead letter(s)`);
      for (const letter of letters) console.log(describeLetter(letter));
    }
    return;
  }
  if (command === "replay") {
    if (!values.group) throw new DlqUsageError();
    const partition = values.partition === undefined ? undefined : Number(values.partition);
    const { letters } = await readDeadLetters(kafka, topicName(config, `dlq.${values.group}`));
    const chosen = selectLetters(letters, { all: values.all ?? false, offset: values.offset, partition });
    const sent = await replayDeadLetters(kafka, chosen);
    console.log(`replayed ${sent} dead letter(s) of group ${values.group} to their original topics`);
    return;
  }
  throw new DlqUsageError();
}

function isUsageError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return error instanceof DlqUsageError || (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS"));
}

main().catch((error: unknown) => {
  // A parse error says what was wrong, then the usage; our own usage error is the usage already; a selection that
  // finds nothing says so without a stack trace.
  if (error instanceof DlqUsageError || error instanceof CodedError) console.error(error.message);
  else if (isUsageError(error)) console.error(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
  else console.error(error);
  process.exit(isUsageError(error) || error instanceof CodedError ? 2 : 1);
});
