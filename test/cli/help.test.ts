import { describe, expect, it } from "vitest";
import { run } from "../helpers.js";

const caFile = async (path: string[]) => {
  const help = (await run([...path, "--help"])).stdout.replace(/\s+/g, " ");
  return /--ca-file <pem> (.*?); NODE_EXTRA_CA_CERTS/.exec(help)?.[1];
};

describe("--help", () => {
  it("words --ca-file for the server the command reaches: no Jira Server on Azure DevOps or Discord commands", async () => {
    expect(await caFile(["notify", "discord"])).toMatch(/Discord/);
    expect(await caFile(["subscribe", "vsts"])).toMatch(/Azure DevOps Server/);
    expect(await caFile(["search", "jira"])).toMatch(/Jira Server/);
    for (const path of [["notify", "discord"], ["subscribe", "vsts"], ["subscriptions", "vsts"], ["unsubscribe", "vsts"], ["search", "vsts"]]) {
      expect(await caFile(path), path.join(" ")).not.toMatch(/Jira/);
    }
  });
});
