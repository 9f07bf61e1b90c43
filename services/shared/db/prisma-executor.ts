import type { Prisma } from "./generated/client.ts";
import type { SqlExecutor, SqlQuery } from "./sql.ts";

/**
 * A SqlExecutor over Prisma (a client or an interactive transaction), for code that shares SQL with the raw path
 * but runs inside a Prisma transaction. int8 arrives as bigint here (a string from pg): read it with Number().
 */
export function prismaExecutor(tx: Pick<Prisma.TransactionClient, "$queryRawUnsafe" | "$executeRawUnsafe">): SqlExecutor {
  return {
    rows: <R extends object>(query: SqlQuery) => tx.$queryRawUnsafe<R[]>(query.text, ...query.values),
    execute: (query: SqlQuery) => tx.$executeRawUnsafe(query.text, ...query.values),
  };
}
