import { describe, expect, it } from "vitest";
import { chooseClusterPlace, outsideRoot, type PlaceInputs } from "./postgres-location.ts";

const postgresUser = { name: "postgres", uid: 101, gid: 104, home: "/var/lib/postgresql" };
const base: PlaceInputs = {
  stackRoot: "/root/of/.stack",
  runAs: postgresUser,
  pinned: undefined,
  clusterInStack: false,
  runAsReachesStack: () => false,
};

describe("chooseClusterPlace", () => {
  it("keeps the cluster in .stack/postgres for a normal user, without asking whether anyone else can reach it", () => {
    const place = chooseClusterPlace({
      ...base,
      runAs: undefined,
      runAsReachesStack: () => {
        throw new Error("not asked");
      },
    });
    expect(place).toEqual({ root: "/root/of/.stack/postgres", outsideBecause: undefined });
  });

  it("keeps it in .stack/postgres as root when the postgres user can reach the clone", () => {
    expect(chooseClusterPlace({ ...base, runAsReachesStack: () => true }).root).toBe("/root/of/.stack/postgres");
  });

  it("moves it under the postgres user's home as root when a parent folder is closed, naming the folder", () => {
    const place = chooseClusterPlace(base);
    expect(place.root).toBe(outsideRoot("/var/lib/postgresql", "/root/of/.stack"));
    expect(place.root).toMatch(/^\/var\/lib\/postgresql\/orderflow\/of-[0-9a-f]{12}$/);
    expect(place.outsideBecause).toContain("cannot reach /root/of");
  });

  it("gives two clones two clusters, and the same clone the same one every time", () => {
    const a = chooseClusterPlace(base).root;
    const b = chooseClusterPlace({ ...base, stackRoot: "/root/work/of/.stack" }).root;
    expect(a).not.toBe(b);
    expect(chooseClusterPlace(base).root).toBe(a);
  });

  it("leaves an existing cluster where it is: in .stack/ when initialised there, at the link target when linked", () => {
    expect(chooseClusterPlace({ ...base, clusterInStack: true }).root).toBe("/root/of/.stack/postgres");
    const linked = chooseClusterPlace({ ...base, pinned: "/var/lib/postgresql/orderflow/of-0123456789ab", runAsReachesStack: () => true });
    expect(linked.root).toBe("/var/lib/postgresql/orderflow/of-0123456789ab");
  });
});
